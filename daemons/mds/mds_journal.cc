#include "daemons/mds/mds_journal.h"

#include "common/log.h"
#include "daemons/mds/mds_journal_codec.h"

namespace nacre::mds {

namespace {
// One append stays well under the messenger's frame limit.
constexpr size_t kMaxAppendBytes = 8u << 20;
}  // namespace

MdsJournal::MdsJournal(EventLoop& loop, rados::IoCtx meta, int rank, uint64_t first_seg, uint64_t segment_bytes,
                       std::function<void(const Status&)> on_error)
    : loop_(loop),
      meta_(std::move(meta)),
      rank_(rank),
      seg_(first_seg),
      segment_bytes_(segment_bytes),
      on_error_(std::move(on_error)) {}

void MdsJournal::Append(const proto::JournalEntry& e, std::function<void()> on_safe) {
  Item it;
  EncodeRecord(e, &it.record);
  it.on_safe = std::move(on_safe);
  pending_.push_back(std::move(it));
  Kick();
}

void MdsJournal::AfterSafe(std::function<void()> fn) {
  if (!inflight_ && pending_.empty()) return fn();
  pending_.push_back(Item{"", std::move(fn)});
  Kick();
}

void MdsJournal::Roll(std::function<void(uint64_t)> fn) {
  roll_waiters_.push_back(std::move(fn));
  Kick();
}

void MdsJournal::Kick() {
  if (inflight_) return;
  if (!roll_waiters_.empty()) {
    // Nothing in flight: this is the boundary.
    ++seg_;
    seg_size_ = 0;
    auto waiters = std::move(roll_waiters_);
    roll_waiters_.clear();
    for (auto& w : waiters) w(seg_);
  }
  if (pending_.empty()) return;
  if (seg_size_ >= segment_bytes_) {
    ++seg_;
    seg_size_ = 0;
  }
  std::string batch;
  std::vector<std::function<void()>> cbs;
  while (!pending_.empty() && (batch.empty() || batch.size() + pending_.front().record.size() <= kMaxAppendBytes)) {
    batch += pending_.front().record;
    if (pending_.front().on_safe) cbs.push_back(std::move(pending_.front().on_safe));
    pending_.pop_front();
  }
  if (batch.empty()) {  // only barriers: they are safe already
    for (auto& cb : cbs) cb();
    return Kick();
  }
  inflight_ = true;
  seg_size_ += batch.size();
  ++appends_;
  auto c = rados::MakeCompletion([this, cbs = std::move(cbs)](rados::AioCompletion& done) mutable {
    Status s = done.status();
    // Completions run on the RADOS thread: hand the outcome to our loop.
    loop_.Post([this, s, cbs = std::move(cbs)]() mutable { Done(s, std::move(cbs)); });
  });
  meta_.AioAppend(JournalSegmentObject(rank_, seg_), Bytes(std::move(batch)), c);
}

void MdsJournal::Done(const Status& s, std::vector<std::function<void()>> cbs) {
  inflight_ = false;
  if (!s.ok()) {
    NLOG(mds, kError) << "journal append to segment " << seg_ << " failed: " << s.ToString();
    on_error_(s);
    return;
  }
  for (auto& cb : cbs) cb();
  Kick();
}

}  // namespace nacre::mds
