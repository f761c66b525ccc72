#include "daemons/osd/store/reclaim.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <future>
#include <unordered_set>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "common/crc32c.h"
#include "common/log.h"
#include "common/metrics.h"
#include "daemons/osd/store/keys.h"

namespace nacre::osd::store {

namespace {

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::OK();
  if (s.IsNoSpace()) return Status(Code::kNoSpace, what + ": " + s.ToString());
  if (s.IsCorruption()) return Corruption(what + ": " + s.ToString());
  return IOError(what + ": " + s.ToString());
}

// Bounds the memory of the bad-extent memo; beyond it failures are simply
// re-read and re-logged.
constexpr size_t kMaxBadExtents = 4096;

class SnapshotHold {
 public:
  explicit SnapshotHold(rocksdb::DB* db) : db_(db), snap_(db->GetSnapshot()) {}
  ~SnapshotHold() { db_->ReleaseSnapshot(snap_); }
  SnapshotHold(const SnapshotHold&) = delete;
  SnapshotHold& operator=(const SnapshotHold&) = delete;
  const rocksdb::Snapshot* get() const { return snap_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snap_;
};

}  // namespace

Reclaimer::Reclaimer(rocksdb::DB* db, DataFiles* data, CommitQueue* queue, ReclaimOptions opts)
    : db_(db), data_(data), queue_(queue), opts_(opts) {
  assert(db_ && data_ && queue_);
  m_deleted_ = Metrics().GetCounter("nacre_store_data_files_deleted_total", "data files deleted by reclaim (no live blocks left)");
  m_compacted_ = Metrics().GetCounter("nacre_store_data_files_compacted_total", "mostly-dead data files whose live blocks reclaim moved out");
  m_moved_ = Metrics().GetCounter("nacre_store_data_bytes_compacted_total", "live bytes copied by reclaim to the data-file tail");
  m_csum_ = Metrics().GetCounter("nacre_store_checksum_errors_total", "reads refused because a block checksum did not match");
  m_live_ = Metrics().GetGauge("nacre_store_data_live_bytes", "referenced bytes in the data files at the last reclaim scan");
  m_dead_ = Metrics().GetGauge("nacre_store_data_dead_bytes", "unreferenced bytes in the data files at the last reclaim scan");
  m_files_ = Metrics().GetGauge("nacre_store_data_files", "data files on disk at the last reclaim scan");
}

Reclaimer::~Reclaimer() { Stop(); }

void Reclaimer::Start() {
  assert(!thread_.joinable());
  if (opts_.interval_sec <= 0) return;
  thread_ = std::thread([this] { Loop(); });
}

void Reclaimer::Stop() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

ReclaimStats Reclaimer::stats() const {
  std::lock_guard lk(stats_mu_);
  return stats_;
}

void Reclaimer::Loop() {
  using Clock = std::chrono::steady_clock;
  const auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opts_.interval_sec));
  auto wait = interval;
  uint64_t seen = UINT64_MAX;  // the first tick runs a round
  bool more = false;
  std::unique_lock lk(mu_);
  while (!stop_) {
    cv_.wait_for(lk, wait, [&] { return stop_.load(); });
    if (stop_) break;
    lk.unlock();
    uint64_t committed = queue_->committed();
    if (committed != seen || more) {
      auto t0 = Clock::now();
      auto r = RunRound();
      if (r.ok()) {
        seen = committed;
        more = r->more;
      } else if (r.status().code() != Code::kShutdown) {
        NLOG(store, kWarn) << "reclaim round failed, retried later: " << r.status().ToString();
      }
      // Scanning is proportional to the store's size: keep it under ~10%
      // of the time.
      wait = std::max(interval, 10 * (Clock::now() - t0));
    } else {
      std::lock_guard g(round_mu_);
      CloseRetired();
    }
    lk.lock();
  }
}

Result<ReclaimRound> Reclaimer::RunRound() {
  std::lock_guard round(round_mu_);
  ReclaimRound r;
  CloseRetired();
  NACRE_ASSIGN_OR_RETURN(Scan scan, ScanLive(/*choose=*/true));
  DeleteDead(scan, &r);
  r.more = scan.more;
  Status st = Compact(&scan, &r);
  if (r.blocks_moved > 0) {
    // Files whose last blocks just moved are dead now: free them this round.
    auto again = ScanLive(/*choose=*/false);
    if (again.ok())
      DeleteDead(*again, &r);
    else if (st.ok())
      st = again.status();
  }
  CloseRetired();
  {
    std::lock_guard lk(stats_mu_);
    ++stats_.rounds;
    stats_.files_deleted += r.files_deleted;
    stats_.files_compacted += r.files_compacted;
    stats_.bytes_moved += r.bytes_moved;
  }
  m_deleted_->Inc(r.files_deleted);
  m_compacted_->Inc(r.files_compacted);
  m_moved_->Inc(r.bytes_moved);
  if (r.files_deleted || r.blocks_moved || r.blocks_bad)
    NLOG(store, kInfo) << "reclaim: deleted " << r.files_deleted << " data files, compacted " << r.files_compacted
                       << " (" << r.blocks_moved << " blocks, " << r.bytes_moved << " bytes moved, " << r.blocks_skipped
                       << " changed meanwhile, " << r.blocks_bad << " bad left in place)";
  if (!st.ok()) return st;
  return r;
}

Result<Reclaimer::Scan> Reclaimer::ScanLive(bool choose) {
  Scan scan;
  SnapshotHold snap(db_);
  scan.seq = snap.get()->GetSequenceNumber();
  rocksdb::ReadOptions ro;
  ro.snapshot = snap.get();
  ro.fill_cache = false;  // a full scan must not evict the hot set
  std::string v;
  rocksdb::Status rs = db_->Get(ro, DataTailKey(), &v);
  if (rs.ok()) {
    NACRE_RETURN_IF_ERROR(DecodeDataTail(v, &scan.tail));
  } else if (!rs.IsNotFound()) {
    return FromRocks(rs, "reclaim: read data tail");
  }
  const std::string lower = "D", upper = "E";  // the 'D' key space
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;

  std::map<uint32_t, uint64_t> live;
  uint64_t undecodable = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
    for (it->Seek(lower); it->Valid(); it->Next()) {
      BlockRecord b;
      if (!DecodeBlock(it->value().ToStringView(), &b).ok()) {
        ++undecodable;  // reads report it; reclaim only must not count it
        continue;
      }
      if (!b.inline_data) live[b.file] += b.len;
    }
    NACRE_RETURN_IF_ERROR(FromRocks(it->status(), "reclaim: scan data blocks"));
  }
  if (undecodable) NLOG(store, kWarn) << "reclaim: " << undecodable << " undecodable block records skipped";

  // Listed after the snapshot: every file sealed in it is on the list.
  NACRE_ASSIGN_OR_RETURN(auto files, data_->Files());
  uint64_t live_total = 0, dead_total = 0;
  std::vector<std::pair<double, const DataFiles::FileInfo*>> candidates;
  for (const auto& f : files) {
    auto l = live.find(f.id);
    uint64_t lb = l == live.end() ? 0 : l->second;
    live_total += lb;
    dead_total += f.size > lb ? f.size - lb : 0;
    if (f.id >= scan.tail.file) continue;  // the tail (or newer): still growing
    if (lb == 0) {
      scan.dead.push_back(f);
    } else if (f.size > 0 && static_cast<double>(lb) < opts_.compact_ratio * static_cast<double>(f.size)) {
      candidates.emplace_back(static_cast<double>(lb) / static_cast<double>(f.size), &f);
    }
  }
  {
    std::lock_guard lk(stats_mu_);
    stats_.data_files = files.size();
    stats_.live_bytes = live_total;
    stats_.dead_bytes = dead_total;
  }
  m_files_->Set(static_cast<int64_t>(files.size()));
  m_live_->Set(static_cast<int64_t>(live_total));
  m_dead_->Set(static_cast<int64_t>(dead_total));
  if (!choose || candidates.empty()) return scan;

  // Emptiest first: the most space back per byte copied.
  std::sort(candidates.begin(), candidates.end(),
            [](const auto& a, const auto& b) { return a.first < b.first || (a.first == b.first && a.second->id < b.second->id); });
  uint64_t chosen_bytes = 0;
  std::unordered_set<uint32_t> chosen;
  for (const auto& [ratio, f] : candidates) {
    uint64_t lb = live[f->id];
    if (!chosen.empty() && chosen_bytes + lb > opts_.round_max_bytes) {
      scan.more = true;
      break;
    }
    chosen.insert(f->id);
    scan.chosen.push_back(f->id);
    chosen_bytes += lb;
  }
  // Second pass over the same snapshot for the chosen files' blocks; their
  // live bytes are bounded by round_max_bytes (or one file), so is this.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  for (it->Seek(lower); it->Valid(); it->Next()) {
    BlockRecord b;
    if (!DecodeBlock(it->value().ToStringView(), &b).ok() || b.inline_data || !chosen.count(b.file)) continue;
    LiveBlock lb;
    lb.file = b.file;
    lb.offset = b.offset;
    lb.len = b.len;
    lb.crc = b.crc;
    if (bad_.count({b.file, b.offset})) lb.outcome = Outcome::kBad;  // known bad: not re-read
    lb.key = it->key().ToString();
    lb.value = it->value().ToString();
    scan.blocks.push_back(std::move(lb));
  }
  NACRE_RETURN_IF_ERROR(FromRocks(it->status(), "reclaim: collect live blocks"));
  return scan;
}

void Reclaimer::DeleteDead(const Scan& scan, ReclaimRound* r) {
  for (const auto& [id, size] : scan.dead) {
    Status st = data_->Unlink(id);
    if (!st.ok()) {
      NLOG(store, kWarn) << "reclaim: cannot delete dead data file " << data_->PathOf(id) << ", retried later: "
                         << st.ToString();
      continue;
    }
    NLOG(store, kInfo) << "reclaim: deleted data file " << data_->PathOf(id) << " (no live blocks)";
    ++r->files_deleted;
    {
      std::lock_guard lk(stats_mu_);
      stats_.data_files -= std::min<uint64_t>(stats_.data_files, 1);
      stats_.dead_bytes -= std::min(stats_.dead_bytes, size);
      m_files_->Set(static_cast<int64_t>(stats_.data_files));
      m_dead_->Set(static_cast<int64_t>(stats_.dead_bytes));
    }
    retired_.emplace_back(id, scan.seq);
    bad_.erase(bad_.lower_bound({id, 0}), bad_.lower_bound({id + 1, 0}));
  }
}

void Reclaimer::CloseRetired() {
  if (retired_.empty()) return;
  // Readers that may still resolve a reference to a deleted file hold a
  // snapshot older than the scan that found it dead; 0 means none is open.
  uint64_t oldest = 0;
  if (!db_->GetIntProperty(rocksdb::DB::Properties::kOldestSnapshotSequence, &oldest)) return;
  auto keep = std::remove_if(retired_.begin(), retired_.end(), [&](const auto& fr) {
    if (oldest != 0 && oldest < fr.second) return false;
    data_->Close(fr.first);
    return true;
  });
  retired_.erase(keep, retired_.end());
}

Status Reclaimer::Compact(Scan* scan, ReclaimRound* r) {
  auto& blocks = scan->blocks;
  const uint64_t chunk = std::max<uint64_t>(kBlockSize, std::min(opts_.compact_chunk, opts_.data_file_max));
  Status st;
  for (size_t begin = 0; begin < blocks.size() && st.ok();) {
    if (stop_) {
      st = ShuttingDown("reclaim stopped");
      break;
    }
    size_t end = begin;
    uint64_t bytes = 0;
    while (end < blocks.size() && (end == begin || bytes + blocks[end].len <= chunk)) bytes += blocks[end++].len;
    // Serialized with every transaction: no record can change between the
    // comparison and the repointing batch.
    std::promise<Status> done;
    auto f = done.get_future();
    st = queue_->SubmitTask([this, &blocks, begin, end] { return MoveChunk(&blocks, begin, end); },
                            [&done](Status s) { done.set_value(std::move(s)); });
    if (st.ok()) st = f.get();
    begin = end;
  }
  std::map<uint32_t, bool> complete;  // file -> every block moved or gone
  for (uint32_t id : scan->chosen) complete[id] = st.ok();
  for (const auto& b : blocks) {
    switch (b.outcome) {
      case Outcome::kMoved:
        ++r->blocks_moved;
        r->bytes_moved += b.len;
        break;
      case Outcome::kSkipped:
        ++r->blocks_skipped;
        break;
      case Outcome::kBad:
        ++r->blocks_bad;
        complete[b.file] = false;
        break;
      case Outcome::kPending:
        complete[b.file] = false;
        break;
    }
  }
  for (const auto& [id, ok] : complete)
    if (ok) ++r->files_compacted;
  if (st.code() == Code::kNoSpace) {
    // Deleting dead files needs no space; the copies do. Not an error of
    // the store: the next round tries again once there is room.
    NLOG(store, kWarn) << "reclaim: compaction paused, no space for the copies: " << st.ToString();
    return Status::OK();
  }
  return st;
}

Status Reclaimer::MoveChunk(std::vector<LiveBlock>* blocks, size_t begin, size_t end) {
  auto t0 = std::chrono::steady_clock::now();
  std::string buf;
  std::vector<LiveBlock*> moving;
  for (size_t i = begin; i < end; ++i) {
    LiveBlock& b = (*blocks)[i];
    if (b.outcome != Outcome::kPending) continue;
    std::string cur;
    rocksdb::Status rs = db_->Get(rocksdb::ReadOptions(), b.key, &cur);
    if (rs.IsNotFound() || (rs.ok() && cur != b.value)) {
      // Overwritten or removed since the scan: its old extent is dead now.
      b.outcome = Outcome::kSkipped;
      continue;
    }
    NACRE_RETURN_IF_ERROR(FromRocks(rs, "reclaim: read block record"));
    size_t at = buf.size();
    buf.resize(at + b.len);
    Status st = data_->ReadAt(b.file, b.offset, b.len, buf.data() + at);
    bool crc_ok = st.ok() && Crc32c(buf.data() + at, size_t{b.len}) == b.crc;
    if (!crc_ok) {
      // Never copy bad bytes under a good checksum; scrub repairs the block
      // from a replica, and reads keep reporting it meanwhile.
      buf.resize(at);
      b.outcome = Outcome::kBad;
      uint32_t index = 0;
      (void)DecodeBlockIndex(b.key, &index);
      if (st.ok()) {
        m_csum_->Inc();
        std::lock_guard lk(stats_mu_);
        ++stats_.csum_errors;
      }
      NLOG(store, kError) << "reclaim: block " << index << " at " << data_->PathOf(b.file) << " @" << b.offset
                          << (st.ok() ? " fails its checksum" : " is unreadable: " + st.ToString())
                          << "; left in place";
      if (st.ok() && bad_.size() < kMaxBadExtents) bad_.insert({b.file, b.offset});
      continue;
    }
    moving.push_back(&b);
  }
  if (moving.empty()) return Status::OK();
  std::vector<iovec> iov{iovec{buf.data(), buf.size()}};
  NACRE_ASSIGN_OR_RETURN(DataTail at, data_->Append(iov, buf.size()));
  rocksdb::WriteBatch wb;
  uint64_t off = at.offset;
  for (LiveBlock* b : moving) {
    wb.Put(b->key, EncodeFileBlock(b->len, b->crc, at.file, off));
    off += b->len;
  }
  wb.Put(DataTailKey(), EncodeDataTail(data_->tail()));
  // As in a client commit: the copies are durable before anything refers
  // to them. On failure nothing refers to them and the old records stand.
  NACRE_RETURN_IF_ERROR(data_->Sync());
  rocksdb::WriteOptions wo;
  wo.sync = true;
  NACRE_RETURN_IF_ERROR(FromRocks(db_->Write(wo, &wb), "reclaim: repoint blocks"));
  for (LiveBlock* b : moving) b->outcome = Outcome::kMoved;
  NLOG(store, kDebug) << "reclaim: moved " << moving.size() << " blocks (" << buf.size() << " bytes) to " << at.file
                      << ":" << at.offset << " in "
                      << std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count()
                      << " us";
  return Status::OK();
}

}  // namespace nacre::osd::store
