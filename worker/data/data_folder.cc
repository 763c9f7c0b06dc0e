#include "worker/data/data_folder.h"

#include <filesystem>

#include "worker/data/dataset.h"

namespace kubetrain {

void require_folder(const std::string& folder, const std::string& expected) {
  std::error_code error;
  if (std::filesystem::is_directory(folder, error)) return;
  const bool exists = std::filesystem::exists(folder, error);
  throw DataError(folder + (exists ? ": is not a folder" : ": no such folder") +
                  "; expected a folder holding " + expected);
}

}  // namespace kubetrain
