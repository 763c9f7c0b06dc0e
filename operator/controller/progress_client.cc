#include "operator/controller/progress_client.h"

#include <httplib.h>

namespace kubetrain {

std::optional<nlohmann::json> fetch_progress(const std::string& url, std::chrono::milliseconds timeout) {
  // url is "http://HOST:PORT/PATH".
  const std::size_t path_start = url.find('/', url.find("://") + 3);
  if (path_start == std::string::npos) return std::nullopt;
  httplib::Client client(url.substr(0, path_start));
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(timeout - seconds);
  client.set_connection_timeout(seconds.count(), micros.count());
  client.set_read_timeout(seconds.count(), micros.count());
  const auto response = client.Get(url.substr(path_start));
  if (!response || response->status != 200) return std::nullopt;
  nlohmann::json body = nlohmann::json::parse(response->body, nullptr, false);
  if (!body.is_object()) return std::nullopt;
  return body;
}

}  // namespace kubetrain
