#include "common/sim/sim_disk.h"

#include <cassert>

namespace nacre::sim {

void SimDisk::ApplyTo(std::map<std::string, std::string, std::less<>>* m, const Batch& b) {
  for (const Op& op : b) {
    if (op.value) {
      (*m)[op.key] = *op.value;
    } else {
      m->erase(op.key);
    }
  }
}

Status SimDisk::Write(Batch batch) {
  if (pending_.size() >= kMaxPendingBatches) return TryAgain("sim disk: too many unsynced batches");
  if (batch.empty()) return Status::OK();
  pending_.push_back(std::move(batch));
  return Status::OK();
}

void SimDisk::Sync() {
  for (const Batch& b : pending_) ApplyTo(&durable_, b);
  pending_.clear();
  ++syncs_;
}

std::optional<std::string> SimDisk::Get(std::string_view key) const {
  // Newest batch first: the last write of a key wins.
  for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
    for (auto op = it->rbegin(); op != it->rend(); ++op) {
      if (op->key == key) return op->value;
    }
  }
  auto it = durable_.find(key);
  if (it == durable_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::pair<std::string, std::string>> SimDisk::Scan(std::string_view prefix, size_t limit) const {
  // Merge the pending batches over the durable keys of the prefix. Scans are
  // for start-up and tests, so a copy of the prefix's keys is acceptable.
  std::map<std::string, std::string, std::less<>> view;
  for (auto it = durable_.lower_bound(prefix); it != durable_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    view.insert(*it);
  }
  for (const Batch& b : pending_) {
    for (const Op& op : b) {
      if (op.key.compare(0, prefix.size(), prefix) != 0) continue;
      if (op.value) {
        view[op.key] = *op.value;
      } else {
        view.erase(op.key);
      }
    }
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& kv : view) {
    if (out.size() >= limit) break;
    out.emplace_back(kv.first, kv.second);
  }
  return out;
}

void SimDisk::OnCrash(SimRng& rng, bool lose_unsynced) {
  size_t keep = pending_.size();
  if (lose_unsynced && !pending_.empty()) keep = static_cast<size_t>(rng.Uniform(pending_.size() + 1));
  assert(keep <= pending_.size());
  for (size_t i = 0; i < keep; ++i) ApplyTo(&durable_, pending_[i]);
  lost_batches_ += pending_.size() - keep;
  pending_.clear();
}

}  // namespace nacre::sim
