#include "operator/kube/api_call_counter.h"

namespace kubetrain {

void ApiCallCounter::observe(const ApiRequestInfo& info) {
  std::lock_guard lock(mutex_);
  ++counts_[{info.verb, info.resource, info.code}];
  ++total_;
}

std::map<ApiCallCounter::Key, std::uint64_t> ApiCallCounter::snapshot() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

std::uint64_t ApiCallCounter::total() const {
  std::lock_guard lock(mutex_);
  return total_;
}

RequestObserver ApiCallCounter::observer() {
  return [this](const ApiRequestInfo& info) { observe(info); };
}

}  // namespace kubetrain
