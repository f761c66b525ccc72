#include "daemons/mds/mds_store.h"

#include "common/log.h"
#include "daemons/mds/mds_journal_codec.h"

namespace nacre::mds {

namespace {
constexpr char kRootObject[] = "mds_root_inode";
constexpr char kRemoteObject[] = "mds_remote_inodes";
// Omap writes are split so one op's keys and values stay small.
constexpr size_t kMaxOmapBatchBytes = 48 * 1024;
}  // namespace

MdsStore::MdsStore(EventLoop& loop, const Config& config) : loop_(loop), config_(config) {
  thread_ = std::thread([this] { Run(); });
}

MdsStore::~MdsStore() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

bool MdsStore::Submit(std::function<void()> work) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (q_.size() >= kMaxQueue || stop_) return false;
    q_.push_back(std::move(work));
  }
  cv_.notify_one();
  return true;
}

void MdsStore::Run() {
  for (;;) {
    std::function<void()> w;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return stop_ || !q_.empty(); });
      if (q_.empty()) return;
      w = std::move(q_.front());
      q_.pop_front();
    }
    w();
  }
}

Result<std::string> MdsStore::PoolName(int64_t id) const {
  for (const auto& name : rados_.PoolList()) {
    auto r = rados_.PoolLookup(name);
    if (r.ok() && *r == id) return name;
  }
  return NotFound("no pool with id " + std::to_string(id));
}

Status MdsStore::Connect(int64_t meta_pool) {
  NACRE_RETURN_IF_ERROR(rados_.Connect(config_, 60));
  NACRE_ASSIGN_OR_RETURN(std::string name, PoolName(meta_pool));
  NACRE_ASSIGN_OR_RETURN(meta_, rados_.CreateIoCtx(name));
  return Status::OK();
}

Result<rados::IoCtx> MdsStore::DataPool(int64_t id) {
  auto it = data_.find(id);
  if (it != data_.end()) return it->second;
  NACRE_ASSIGN_OR_RETURN(std::string name, PoolName(id));
  NACRE_ASSIGN_OR_RETURN(auto io, rados_.CreateIoCtx(name));
  data_[id] = io;
  return io;
}

Result<std::map<std::string, std::string>> MdsStore::LoadDir(uint64_t ino) {
  // OmapGetVals with max 0 reads in pages until the end.
  auto r = meta_.OmapGetVals(DirObject(ino));
  if (!r.ok() && r.status().code() == Code::kNotFound) return std::map<std::string, std::string>{};
  return r;
}

Result<RankState> MdsStore::ReadRank(int rank, int64_t now_ns) {
  RankState st;
  auto root = meta_.Read(kRootObject);
  if (!root.ok() && root.status().code() != Code::kNotFound) return root.status();
  if (!root.ok() || !st.root.ParseFromString(root->ToString())) {
    if (root.ok()) return Corruption("cannot decode the root inode");
    st.new_fs = true;
    MdsCache tmp(rank);
    st.root = tmp.MakeRootInode(now_ns);
  }
  auto head = meta_.Read(JournalHeadObject(rank));
  if (head.ok()) {
    if (!st.head.ParseFromString(head->ToString())) return Corruption("cannot decode the journal head");
  } else if (head.status().code() != Code::kNotFound) {
    return head.status();
  } else {
    st.head.set_next_ino(RankInoStart(rank));
  }
  auto remote = meta_.OmapGetVals(kRemoteObject);
  if (remote.ok()) st.remote = std::move(*remote);
  else if (remote.status().code() != Code::kNotFound) return remote.status();

  std::set<uint64_t> dirs{kRootIno, StrayIno(rank)};
  uint64_t seg = st.head.expire_seg();
  for (;; ++seg) {
    auto data = meta_.Read(JournalSegmentObject(rank, seg));
    if (!data.ok()) {
      if (data.status().code() == Code::kNotFound) break;
      return data.status();
    }
    size_t used = 0;
    auto entries = DecodeRecords(data->view(), &used);
    if (used != data->size())
      NLOG(mds, kWarn) << "journal segment " << seg << " ends in " << data->size() - used << " torn bytes";
    for (auto& e : entries) {
      if (e.seq() < st.head.expire_seq()) continue;
      for (const auto& op : e.ops()) {
        if (op.has_dentry_set()) {
          dirs.insert(op.dentry_set().dir_ino());
          const auto& i = op.dentry_set().dentry().inode();
          if (IsDir(i)) dirs.insert(i.ino());
        }
        if (op.has_dentry_rm()) dirs.insert(op.dentry_rm().dir_ino());
      }
      st.entries.push_back(std::move(e));
    }
  }
  st.next_seg = seg;
  for (uint64_t d : dirs) {
    NACRE_ASSIGN_OR_RETURN(st.dirs[d], LoadDir(d));
  }
  return st;
}

namespace {
// Applies omap sets and removals to one object in bounded batches.
Status WriteOmap(rados::IoCtx& io, const std::string& oid, const std::map<std::string, std::string>& set,
                 const std::set<std::string>& rm) {
  auto s_it = set.begin();
  auto r_it = rm.begin();
  while (s_it != set.end() || r_it != rm.end()) {
    rados::ObjectWriteOperation op;
    op.Create(false);
    size_t bytes = 0;
    std::set<std::string> rms;
    while (r_it != rm.end() && bytes < kMaxOmapBatchBytes) {
      bytes += r_it->size() + 8;
      rms.insert(*r_it++);
    }
    std::map<std::string, std::string> sets;
    while (s_it != set.end() && (sets.empty() || bytes + s_it->first.size() + s_it->second.size() < kMaxOmapBatchBytes)) {
      bytes += s_it->first.size() + s_it->second.size() + 8;
      sets.insert(*s_it++);
    }
    if (!rms.empty()) op.OmapRmKeys(rms);
    if (!sets.empty()) op.OmapSet(sets);
    NACRE_RETURN_IF_ERROR(io.Operate(oid, op));
  }
  return Status::OK();
}
}  // namespace

Status MdsStore::Flush(const FlushBatch& b, int rank, const proto::JournalHeadProto& head, uint64_t old_expire_seg) {
  for (const auto& [ino, delta] : b.dirs) NACRE_RETURN_IF_ERROR(WriteOmap(meta_, DirObject(ino), delta.set, delta.rm));
  if (!b.remote_set.empty() || !b.remote_rm.empty())
    NACRE_RETURN_IF_ERROR(WriteOmap(meta_, kRemoteObject, b.remote_set, b.remote_rm));
  if (b.root_dirty) NACRE_RETURN_IF_ERROR(meta_.WriteFull(kRootObject, Bytes(b.root.SerializeAsString())));
  // The head moves only after everything it lets replay skip is written.
  NACRE_RETURN_IF_ERROR(meta_.WriteFull(JournalHeadObject(rank), Bytes(head.SerializeAsString())));
  for (uint64_t s = old_expire_seg; s < head.expire_seg(); ++s) {
    Status r = meta_.Remove(JournalSegmentObject(rank, s));
    if (!r.ok() && r.code() != Code::kNotFound) NLOG(mds, kWarn) << "removing journal segment " << s << ": " << r.ToString();
  }
  return Status::OK();
}

Status MdsStore::Purge(const proto::InodeProto& i) {
  NACRE_ASSIGN_OR_RETURN(auto io, DataPool(i.layout().pool()));
  uint64_t os = i.layout().object_size() ? i.layout().object_size() : (4u << 20);
  uint64_t blocks = std::max<uint64_t>(1, (i.size() + os - 1) / os);
  for (uint64_t b = 0; b < blocks; ++b) {
    Status s = io.Remove(DataObject(i.ino(), b));
    if (!s.ok() && s.code() != Code::kNotFound) return s;
  }
  return Status::OK();
}

Status MdsStore::TruncateData(const proto::InodeProto& i, uint64_t to) {
  NACRE_ASSIGN_OR_RETURN(auto io, DataPool(i.layout().pool()));
  uint64_t os = i.layout().object_size() ? i.layout().object_size() : (4u << 20);
  uint64_t end = (i.size() + os - 1) / os;
  for (uint64_t b = to / os; b < end; ++b) {
    uint64_t keep = b == to / os ? to % os : 0;
    Status s = keep ? io.Truncate(DataObject(i.ino(), b), keep) : io.Remove(DataObject(i.ino(), b));
    if (!s.ok() && s.code() != Code::kNotFound) return s;
  }
  return Status::OK();
}

}  // namespace nacre::mds
