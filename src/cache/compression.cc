#include "cache/compression.h"

#include <lz4.h>
#include <zstd.h>

namespace tajir::cache {

std::optional<Codec> parse_codec(std::string_view name) {
  if (name == "none") return Codec::kNone;
  if (name == "lz4") return Codec::kLz4;
  if (name == "zstd") return Codec::kZstd;
  return std::nullopt;
}

std::string_view codec_name(Codec codec) {
  switch (codec) {
    case Codec::kNone:
      return "none";
    case Codec::kLz4:
      return "lz4";
    case Codec::kZstd:
      return "zstd";
  }
  return "none";
}

std::optional<std::string> compress(Codec codec, std::string_view raw) {
  std::string out;
  size_t n = 0;
  switch (codec) {
    case Codec::kNone:
      return std::nullopt;
    case Codec::kLz4: {
      if (raw.size() > static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) return std::nullopt;
      out.resize(static_cast<size_t>(LZ4_compressBound(static_cast<int>(raw.size()))));
      int r = LZ4_compress_default(raw.data(), out.data(), static_cast<int>(raw.size()),
                                   static_cast<int>(out.size()));
      if (r <= 0) return std::nullopt;
      n = static_cast<size_t>(r);
      break;
    }
    case Codec::kZstd: {
      out.resize(ZSTD_compressBound(raw.size()));
      // Level 1: the fastest, and on JSON within a few percent of the default level's ratio.
      size_t r = ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), 1);
      if (ZSTD_isError(r)) return std::nullopt;
      n = r;
      break;
    }
  }
  if (n > raw.size() - raw.size() / 8) return std::nullopt;
  out.resize(n);
  out.shrink_to_fit();
  return out;
}

std::optional<std::string> decompress(Codec codec, std::string_view stored, size_t raw_size) {
  if (codec == Codec::kNone) {
    if (stored.size() != raw_size) return std::nullopt;
    return std::string(stored);
  }
  std::string out(raw_size, '\0');
  switch (codec) {
    case Codec::kNone:
      break;
    case Codec::kLz4: {
      int r = LZ4_decompress_safe(stored.data(), out.data(), static_cast<int>(stored.size()),
                                  static_cast<int>(raw_size));
      if (r < 0 || static_cast<size_t>(r) != raw_size) return std::nullopt;
      return out;
    }
    case Codec::kZstd: {
      size_t r = ZSTD_decompress(out.data(), raw_size, stored.data(), stored.size());
      if (ZSTD_isError(r) || r != raw_size) return std::nullopt;
      return out;
    }
  }
  return std::nullopt;
}

}  // namespace tajir::cache
