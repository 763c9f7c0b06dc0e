#pragma once

#include <string>

namespace kubetrain {

// Throws a DataError naming `folder` and what it should hold (`expected`) unless it is a folder.
void require_folder(const std::string& folder, const std::string& expected);

}  // namespace kubetrain
