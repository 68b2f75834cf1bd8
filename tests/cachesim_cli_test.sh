#!/usr/bin/env bash
# PLACEHOLDER: being written.
exit 0
