// Value compression: lz4 (fast) or zstd (tighter), for values above a size threshold.
//
// The cache compresses on put and decompresses on get, so callers never see it; a hit on a
// compressed value pays one decompression and one allocation, a hit on a small value copies
// nothing. A value is stored compressed only when that saves at least 1/8 of its size.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tajir::cache {

enum class Codec : uint8_t { kNone, kLz4, kZstd };

// "none", "lz4", "zstd"; nullopt for anything else.
std::optional<Codec> parse_codec(std::string_view name);
std::string_view codec_name(Codec codec);

// The compressed bytes, or nullopt when compression does not pay (or codec is kNone).
std::optional<std::string> compress(Codec codec, std::string_view raw);

// The original bytes; nullopt when `stored` is corrupt or does not expand to raw_size.
std::optional<std::string> decompress(Codec codec, std::string_view stored, size_t raw_size);

}  // namespace tajir::cache
