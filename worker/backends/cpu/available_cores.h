#pragma once

namespace kubetrain {

// CPU cores this process may use: its affinity mask, further limited by a cgroup CPU quota
// (a Kubernetes CPU limit), rounded up; at least 1.
int available_cores();

}  // namespace kubetrain
