#include "operator/controller/expectations.h"

namespace kubetrain {

void Expectations::expect_creation(const std::string& job_key, const std::string& name) {
  std::lock_guard lock(mutex_);
  creations_[job_key][name] = Clock::now();
}

void Expectations::expect_deletion(const std::string& job_key, const std::string& name) {
  std::lock_guard lock(mutex_);
  deletions_[job_key][name] = Clock::now();
}

void Expectations::observe_creation(const std::string& job_key, const std::string& name) {
  std::lock_guard lock(mutex_);
  erase(creations_, job_key, name);
}

void Expectations::observe_deletion(const std::string& job_key, const std::string& name) {
  std::lock_guard lock(mutex_);
  erase(deletions_, job_key, name);
  erase(creations_, job_key, name);  // whatever was created under this name is gone too
}

bool Expectations::creation_pending(const std::string& job_key, const std::string& name) {
  std::lock_guard lock(mutex_);
  return pending(creations_, job_key, name);
}

bool Expectations::deletion_pending(const std::string& job_key, const std::string& name) {
  std::lock_guard lock(mutex_);
  return pending(deletions_, job_key, name);
}

void Expectations::forget(const std::string& job_key) {
  std::lock_guard lock(mutex_);
  creations_.erase(job_key);
  deletions_.erase(job_key);
}

bool Expectations::pending(Pending& pending, const std::string& job_key, const std::string& name) {
  const auto job = pending.find(job_key);
  if (job == pending.end()) return false;
  const auto entry = job->second.find(name);
  if (entry == job->second.end()) return false;
  if (Clock::now() - entry->second < timeout_) return true;
  erase(pending, job_key, name);
  return false;
}

void Expectations::erase(Pending& pending, const std::string& job_key, const std::string& name) {
  const auto job = pending.find(job_key);
  if (job == pending.end()) return;
  job->second.erase(name);
  if (job->second.empty()) pending.erase(job);
}

}  // namespace kubetrain
