#include "worker/backends/cpu/layout_bridge.h"

#include <stdexcept>

namespace kubetrain {

LayoutBridge::LayoutBridge(DnnlContext& context, const dnnl::memory::desc& user,
                           const dnnl::memory::desc& primitive, ScratchSlot slot,
                           Direction direction)
    : context_(context),
      slot_(slot),
      direction_(direction),
      user_(context.unbound(user)),
      internal_(context.unbound(primitive)) {
  if (user == primitive) return;
  context.reserve(slot, primitive.get_size());
  reorder_ = direction == Direction::kInput ? dnnl::reorder(user_, internal_)
                                            : dnnl::reorder(internal_, user_);
}

const dnnl::memory& LayoutBridge::read(const void* data) {
  if (direction_ != Direction::kInput) throw std::logic_error("LayoutBridge::read on an output");
  if (!reorder_) return bind(user_, data);
  bind(user_, data);
  bind(internal_, context_.scratch(slot_));
  reorder_->execute(context_.stream(), user_, internal_);
  return internal_;
}

const dnnl::memory& LayoutBridge::target(void* data) {
  if (direction_ != Direction::kOutput) throw std::logic_error("LayoutBridge::target on an input");
  bind(user_, data);
  if (!reorder_) return user_;
  return bind(internal_, context_.scratch(slot_));
}

void LayoutBridge::write_back() {
  if (reorder_) reorder_->execute(context_.stream(), internal_, user_);
}

}  // namespace kubetrain
