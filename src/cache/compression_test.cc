#include "cache/compression.h"

#include <gtest/gtest.h>

#include <random>

namespace tajir::cache {
namespace {

std::string json_like(size_t items) {
  std::string s = "{\"items\":[";
  for (size_t i = 0; i < items; ++i) {
    s += "{\"id\":" + std::to_string(1000 + i) + ",\"name\":\"Product " + std::to_string(i) +
         "\",\"sku\":\"SKU-" + std::to_string(77000 + i) +
         "\",\"category\":\"Beverages\",\"price\":" + std::to_string(100 + i * 7 % 900) +
         ",\"stock\":" + std::to_string(i % 50) + ",\"active\":true},";
  }
  s += "]}";
  return s;
}

class CompressionTest : public ::testing::TestWithParam<Codec> {};

TEST_P(CompressionTest, RoundTripsAndShrinksJson) {
  std::string raw = json_like(50);
  auto packed = compress(GetParam(), raw);
  ASSERT_TRUE(packed.has_value());
  EXPECT_LT(packed->size() * 3, raw.size()) << "JSON-like values compress at least 3x";
  auto back = decompress(GetParam(), *packed, raw.size());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, raw);
}

TEST_P(CompressionTest, IncompressibleDataIsLeftAlone) {
  std::mt19937_64 rng(7);
  std::string noise(4096, '\0');
  for (char& c : noise) c = static_cast<char>(rng());
  EXPECT_FALSE(compress(GetParam(), noise).has_value());
}

TEST_P(CompressionTest, CorruptInputIsRejectedNotTrusted) {
  std::string raw = json_like(20);
  auto packed = compress(GetParam(), raw);
  ASSERT_TRUE(packed.has_value());
  EXPECT_FALSE(decompress(GetParam(), *packed, raw.size() + 1).has_value());
  std::string garbage(packed->size(), '\xff');
  EXPECT_FALSE(decompress(GetParam(), garbage, raw.size()).has_value());
}

// Found by fuzz/compression.cc: kNone gave its bytes back whatever size was claimed, though
// decompress() promises nothing unless they are exactly raw_size bytes.
TEST(Compression, NoneDecompressesOnlyToTheClaimedSize) {
  EXPECT_EQ(decompress(Codec::kNone, "hello", 5), "hello");
  EXPECT_FALSE(decompress(Codec::kNone, "hello", 6620416).has_value());
  EXPECT_FALSE(decompress(Codec::kNone, "hello", 4).has_value());
}

INSTANTIATE_TEST_SUITE_P(Codecs, CompressionTest, ::testing::Values(Codec::kLz4, Codec::kZstd),
                         [](const auto& info) { return std::string(codec_name(info.param)); });

TEST(Compression, NamesParse) {
  EXPECT_EQ(parse_codec("lz4"), Codec::kLz4);
  EXPECT_EQ(parse_codec("zstd"), Codec::kZstd);
  EXPECT_EQ(parse_codec("none"), Codec::kNone);
  EXPECT_FALSE(parse_codec("gzip").has_value());
  EXPECT_FALSE(compress(Codec::kNone, json_like(5)).has_value());
}

}  // namespace
}  // namespace tajir::cache
