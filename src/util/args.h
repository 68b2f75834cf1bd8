// ArgReader: walks a command line of `--flag value`, `--flag=value` and bare `--switch` words.
//
// It knows no flags itself: the caller asks for the next flag, decides what it means, and takes
// its value if it has one. A value comes from `=value` in the same word, or else from the next
// word; a missing value is an error value, not an exception, so each tool reports it its own way.
//
//   tajir::ArgReader args(argc, argv);
//   while (args.next()) {
//     if (args.flag() == "--out") {
//       auto v = args.value();
//       if (!v.ok()) fail(v.status().message());  // "missing value for --out"
//       out = *v;
//     } else if (args.flag() == "--verbose") {
//       verbose = true;
//     } else {
//       fail("unknown argument '" + std::string(args.flag()) + "'");
//     }
//   }
//
// Limits: a word is split at `=` only when it starts with `--`; `-x` and positional words come
// back whole from flag(). A switch given `=value` (`--verbose=1`) is the caller's to reject: see
// has_inline_value(). Not thread-safe; argv must outlive the reader.
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace tajir {

class ArgReader {
 public:
  ArgReader(int argc, char** argv) : argc_(argc), argv_(argv) {}

  // Moves to the next word; false when the command line is exhausted. Skips argv[0].
  bool next() {
    if (index_ + 1 >= argc_) return false;
    const std::string_view word = argv_[++index_];
    const size_t eq = word.find('=');
    if (word.starts_with("--") && eq != std::string_view::npos) {
      flag_ = word.substr(0, eq);
      inline_value_ = word.substr(eq + 1);
      has_inline_value_ = true;
    } else {
      flag_ = word;
      inline_value_ = {};
      has_inline_value_ = false;
    }
    return true;
  }

  // The current word, without any `=value`. REQUIRES: next() returned true.
  std::string_view flag() const { return flag_; }

  // True if the current word carried `=value`.
  bool has_inline_value() const { return has_inline_value_; }

  // The current flag's value: its `=value`, or else the next word (which it consumes).
  // kInvalidArgument "missing value for FLAG" if there is neither. REQUIRES: next() returned true.
  Result<std::string> value() {
    if (has_inline_value_) return std::string(inline_value_);
    if (index_ + 1 >= argc_) {
      return Status(StatusCode::kInvalidArgument, "missing value for " + std::string(flag_));
    }
    return std::string(argv_[++index_]);
  }

 private:
  int argc_;
  char** argv_;
  int index_ = 0;
  std::string_view flag_;
  std::string_view inline_value_;
  bool has_inline_value_ = false;
};

}  // namespace tajir
