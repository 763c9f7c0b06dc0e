#pragma once

#include "worker/backend/backend.h"
#include "worker/dist/communicator.h"
#include "worker/model/parameter_store.h"

namespace kubetrain {

// Makes every rank hold rank 0's weights, momentum and BatchNorm running statistics (after
// initialisation or a resume), so that data-parallel ranks start identical and stay so.
void broadcast_parameters(Communicator& communicator, Backend& backend, ParameterStore& store);

}  // namespace kubetrain
