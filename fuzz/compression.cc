// The cache's value codec (cache/compression.h): decompressing any bytes, with any claimed size,
// never crashes and gives either nothing or exactly that many bytes; compressing then
// decompressing gives the value back, and a value is stored compressed only when that saves at
// least an eighth of it.
//
// Input: a byte picks the codec, 3 bytes the claimed raw size (under 1 MiB), the rest is the
// value (compressed, then decompressed) and the stored bytes (decompressed as they are).
#include "cache/compression.h"

#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz.h"

using namespace tajir::cache;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const Codec codecs[] = {Codec::kNone, Codec::kLz4, Codec::kZstd};
  Codec codec = codecs[data[0] % 3];
  size_t claimed = data[1] | (data[2] << 8) | (static_cast<size_t>(data[3] & 0x0f) << 16);
  std::string_view bytes(reinterpret_cast<const char*>(data + 4), size - 4);

  auto out = decompress(codec, bytes, claimed);
  if (out) FUZZ_CHECK(out->size() == claimed, "%zu bytes for a claimed %zu", out->size(), claimed);

  auto packed = compress(codec, bytes);
  if (codec == Codec::kNone) FUZZ_CHECK(!packed, "kNone compresses nothing");
  if (!packed) return 0;
  FUZZ_CHECK(packed->size() <= bytes.size() - bytes.size() / 8, "compressed only when it pays");
  auto back = decompress(codec, *packed, bytes.size());
  FUZZ_CHECK(back && *back == bytes, "round trip of %zu bytes", bytes.size());
  return 0;
}
