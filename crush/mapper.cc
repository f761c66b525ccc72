// CrushMap::DoRule: runs a rule for one input. Pure and allocation-free apart
// from the output vector: the working sets live in fixed arrays on the stack
// (a rule never holds more than kMaxResult items) and every loop is bounded
// by the tries counts, the tree depth or kMaxResult.
//
// The retry scheme follows Ceph's CRUSH so operators' intuitions carry over:
//   - firstn (replicated pools): replica `rep` tries r = rep + attempt, so a
//     rejected choice (collision, device out) shifts the later replicas;
//     chooseleaf descends once into the chosen failure domain and, if its
//     device is out, starts again from the top with the next attempt.
//   - indep (erasure-coded pools): position p tries r = p + attempt * count,
//     so a failed position never disturbs the others, and unfilled
//     positions stay kItemNone; chooseleaf retries inside the same failure
//     domain first (leaf tries), so one failed device moves one shard only.
#include <algorithm>

#include "crush/crush_map.h"
#include "crush/fixed_log.h"
#include "crush/hash.h"
#include "crush/placement.h"

namespace nacre::crush {

namespace {

constexpr int32_t kUndef = 0x7ffffffe;  // an indep position not decided yet

bool Contains(const int32_t* a, int n, int32_t item) {
  for (int i = 0; i < n; ++i)
    if (a[i] == item) return true;
  return false;
}

class Mapper {
 public:
  Mapper(const Placement& p, const Placement::View& view, uint32_t x, std::span<const uint32_t> reweight)
      : p_(p), view_(view), x_(x), reweight_(reweight) {}

  // Picks up to `want` distinct items of `type` below `bucket` into
  // out[n..], trying replica indexes 0..numrep-1; out[0..n) count as taken.
  // With `leaf`, also picks one device below each into leaf_out at the same
  // index. Returns the new n.
  int Firstn(int32_t bucket, int numrep, int want, int32_t type, bool leaf, uint32_t tries,
             uint32_t leaf_tries, uint32_t parent_r, int32_t* out, int n, int32_t* leaf_out) const {
    const int goal = n + want;
    for (int rep = 0; rep < numrep && n < goal; ++rep) {
      for (uint32_t attempt = 0; attempt < tries; ++attempt) {
        const uint32_t r = parent_r + static_cast<uint32_t>(rep) + attempt;
        const int32_t item = Descend(bucket, type, r);
        if (item == kItemNone || Contains(out, n, item)) continue;
        if (leaf) {
          if (item < 0) {
            if (Firstn(item, 1, 1, 0, false, leaf_tries, 0, r, leaf_out, n, nullptr) == n) continue;
          } else {
            leaf_out[n] = item;
          }
        }
        if (type == 0 && IsOut(item)) continue;
        out[n++] = item;
        break;
      }
    }
    return n;
  }

  // Fills positions out[start .. start+count) with distinct items of `type`
  // below `bucket`; position p tries r = parent_r + p + attempt * stride.
  // Positions left unfilled become kItemNone.
  void Indep(int32_t bucket, int start, int count, int stride, int32_t type, bool leaf, uint32_t tries,
             uint32_t leaf_tries, uint32_t parent_r, int32_t* out, int32_t* leaf_out) const {
    const int end = start + count;
    for (int p = start; p < end; ++p) {
      out[p] = kUndef;
      if (leaf) leaf_out[p] = kUndef;
    }
    int left = count;
    for (uint32_t attempt = 0; left > 0 && attempt < tries; ++attempt) {
      for (int p = start; p < end; ++p) {
        if (out[p] != kUndef) continue;
        const uint32_t r = parent_r + static_cast<uint32_t>(p) + static_cast<uint32_t>(stride) * attempt;
        const int32_t item = Descend(bucket, type, r);
        if (item == kItemNone || Contains(out + start, count, item)) continue;
        if (leaf) {
          if (item < 0) {
            Indep(item, p, 1, stride, 0, false, leaf_tries, 0, r, leaf_out, nullptr);
            if (leaf_out[p] == kItemNone) continue;
          } else {
            leaf_out[p] = item;
          }
        }
        if (type == 0 && IsOut(item)) continue;
        out[p] = item;
        --left;
      }
    }
    for (int p = start; p < end; ++p) {
      if (out[p] == kUndef) out[p] = kItemNone;
      if (leaf && leaf_out[p] == kUndef) leaf_out[p] = kItemNone;
    }
  }

 private:
  int32_t TypeOf(int32_t item) const { return item >= 0 ? 0 : p_.bucket_type[BucketSlot(item)]; }

  // Walks down from `bucket` with the same r until an item of `type`;
  // kItemNone on an empty bucket or a device of another type.
  int32_t Descend(int32_t bucket, int32_t type, uint32_t r) const {
    int32_t item = bucket;
    for (int depth = 0; depth < kMaxDepth; ++depth) {
      item = Straw2(item, r);
      if (item == kItemNone) return kItemNone;
      if (TypeOf(item) == type) return item;
      if (item >= 0) return kItemNone;
    }
    return kItemNone;
  }

  // straw2: each item draws ln(u)/weight, the largest draw wins. Draws are
  // compared by cross-multiplying (ln_a * w_b vs ln_b * w_a) in 128 bits,
  // which is exact, so heavy buckets lose no precision to a division.
  int32_t Straw2(int32_t bucket, uint32_t r) const {
    const int32_t s = BucketSlot(bucket);
    const uint32_t begin = view_.begin[s];
    const uint32_t end = view_.begin[s + 1];
    if (begin == end) return kItemNone;
    const Placement::Item* items = view_.items.data();
    int32_t best = items[begin].id;
    if (end - begin == 1) return best;
    __int128 best_ln = DrawLog(Hash3(x_, static_cast<uint32_t>(best), r));
    __int128 best_w = items[begin].weight;
    for (uint32_t i = begin + 1; i < end; ++i) {
      const __int128 ln = DrawLog(Hash3(x_, static_cast<uint32_t>(items[i].id), r));
      const __int128 w = items[i].weight;
      if (ln * best_w > best_ln * w) {
        best = items[i].id;
        best_ln = ln;
        best_w = w;
      }
    }
    return best;
  }

  // The device's in/out weight rejects a fraction of the inputs that chose
  // it, decided by a hash of the input so the same inputs stay rejected.
  bool IsOut(int32_t device) const {
    if (static_cast<size_t>(device) >= reweight_.size()) return true;
    const uint32_t w = reweight_[device];
    if (w >= kWeightOne) return false;
    if (w == 0) return true;
    return (Hash2(x_, static_cast<uint32_t>(device)) & 0xFFFF) >= w;
  }

  const Placement& p_;
  const Placement::View& view_;
  const uint32_t x_;
  const std::span<const uint32_t> reweight_;
};

}  // namespace

Status CrushMap::DoRule(int32_t rule_id, uint32_t x, int pool_size, std::span<const uint32_t> reweight,
                        std::vector<int>* out) const {
  out->clear();
  if (!placement_) return Invalid("crush map is not validated");
  const Placement& p = *placement_;
  if (pool_size < 1 || pool_size > kMaxResult)
    return OutOfRange("pool size " + std::to_string(pool_size) + " out of range [1, " +
                      std::to_string(kMaxResult) + "]");
  if (rule_id < 0 || rule_id >= static_cast<int32_t>(p.rule_index.size()) || p.rule_index[rule_id] < 0)
    return NotFound("no rule with id " + std::to_string(rule_id));

  int32_t w[kMaxResult];  // the working set: what the last step produced
  int32_t o[kMaxResult];
  int32_t c[kMaxResult];
  int wn = 0;
  int view = 0;
  uint32_t tries = tunables_.choose_total_tries;
  uint32_t leaf_tries = 0;
  for (const Placement::CompiledStep& s : p.rule_steps[p.rule_index[rule_id]]) {
    switch (s.op) {
      case StepOp::kTake:
        w[0] = s.arg1;
        wn = 1;
        view = s.view;
        break;
      case StepOp::kSetChooseTries:
        tries = s.arg1 > 0 ? static_cast<uint32_t>(s.arg1) : tunables_.choose_total_tries;
        break;
      case StepOp::kSetChooseLeafTries:
        leaf_tries = static_cast<uint32_t>(s.arg1);
        break;
      case StepOp::kChooseFirstn:
      case StepOp::kChooseIndep:
      case StepOp::kChooseLeafFirstn:
      case StepOp::kChooseLeafIndep: {
        const bool firstn = s.op == StepOp::kChooseFirstn || s.op == StepOp::kChooseLeafFirstn;
        const bool leaf = s.op == StepOp::kChooseLeafFirstn || s.op == StepOp::kChooseLeafIndep;
        const int numrep = s.arg1 > 0 ? s.arg1 : pool_size + s.arg1;
        const Mapper m(p, p.views[view], x, reweight);
        int on = 0;
        for (int i = 0; i < wn && numrep > 0 && on < pool_size; ++i) {
          if (w[i] >= 0) continue;  // a device or a hole: nothing below it
          const int want = std::min(numrep, pool_size - on);
          if (firstn) {
            // Like Ceph's chooseleaf_descend_once: one leaf attempt, then retry from the top.
            const uint32_t lt = leaf_tries ? leaf_tries : 1;
            on = m.Firstn(w[i], numrep, want, s.arg2, leaf, tries, lt, 0, o + on, 0, c + on) + on;
          } else {
            // Retrying the leaf inside the same failure domain (as many times as
            // the domain itself) keeps every other shard in place when a device
            // is out; Ceph's EC rules approximate this with set_chooseleaf_tries 5.
            const uint32_t lt = leaf_tries ? leaf_tries : tries;
            m.Indep(w[i], 0, want, numrep, s.arg2, leaf, tries, lt, 0, o + on, c + on);
            on += want;
          }
        }
        std::copy(leaf ? c : o, (leaf ? c : o) + on, w);
        wn = on;
        break;
      }
      case StepOp::kEmit:
        for (int i = 0; i < wn && static_cast<int>(out->size()) < pool_size; ++i) out->push_back(w[i]);
        wn = 0;
        break;
    }
  }
  return Status::OK();
}

}  // namespace nacre::crush
