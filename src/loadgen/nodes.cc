#include "loadgen/nodes.h"

#include <algorithm>
#include <charconv>

namespace tajir::loadgen {

Result<Endpoint> parse_url(std::string_view url) {
  const std::string bad = "--url must be http://HOST:PORT, not '" + std::string(url) + "'";
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) return InvalidArgument(bad, "url");
  url.remove_prefix(kScheme.size());
  if (url.ends_with('/')) url.remove_suffix(1);
  size_t colon = url.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return InvalidArgument(bad, "url");
  std::string_view port = url.substr(colon + 1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
    return InvalidArgument(bad, "url");
  return Endpoint{std::string(url.substr(0, colon)), static_cast<uint16_t>(value)};
}

Status add_urls(std::string_view list, std::vector<Endpoint>& out) {
  for (size_t pos = 0;;) {
    size_t comma = list.find(',', pos);
    auto one =
        parse_url(list.substr(pos, comma == std::string_view::npos ? list.npos : comma - pos));
    if (!one.ok()) return one.status();
    out.push_back(*std::move(one));
    if (comma == std::string_view::npos) return OkStatus();
    pos = comma + 1;
  }
}

std::vector<Endpoint> distinct(const std::vector<Endpoint>& nodes) {
  std::vector<Endpoint> out;
  for (const Endpoint& e : nodes) {
    if (std::find(out.begin(), out.end(), e) == out.end()) out.push_back(e);
  }
  return out;
}

}  // namespace tajir::loadgen
