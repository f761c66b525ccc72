#include "daemons/osd/store/object_store.h"

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <future>

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include "common/crc32c.h"
#include "common/log.h"
#include "common/metrics.h"
#include "daemons/osd/store/keys.h"

namespace nacre::osd::store {

namespace {

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::OK();
  if (s.IsNotFound()) return NotFound(what);
  if (s.IsNoSpace()) return Status(Code::kNoSpace, what + ": " + s.ToString());
  if (s.IsCorruption()) return Corruption(what + ": " + s.ToString());
  return IOError(what + ": " + s.ToString());
}

bool StartsWith(const rocksdb::Slice& s, const std::string& p) {
  return s.size() >= p.size() && std::memcmp(s.data(), p.data(), p.size()) == 0;
}

// A consistent view for one read call: every key read through it comes from
// the same committed state.
class Snap {
 public:
  explicit Snap(rocksdb::DB* db) : db_(db), snap_(db->GetSnapshot()) { ro_.snapshot = snap_; }
  ~Snap() { db_->ReleaseSnapshot(snap_); }
  const rocksdb::ReadOptions& ro() const { return ro_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snap_;
  rocksdb::ReadOptions ro_;
};

// RocksDB's own log goes to ours (one logging facility, and no LOG file that
// could itself fail when the disk is full).
class RocksLogger : public rocksdb::Logger {
 public:
  RocksLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override { Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap); }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    char buf[1024];
    std::vsnprintf(buf, sizeof buf, format, ap);
    // Warn, not error: RocksDB logs expected conditions (a fresh store's
    // missing directory) as errors; failures that matter reach us as Status.
    if (level >= rocksdb::InfoLogLevel::WARN_LEVEL)
      NLOG(store, kWarn) << "rocksdb: " << buf;
    else
      NLOG(store, kDebug) << "rocksdb: " << buf;
  }
};

}  // namespace

Result<StoreOptions> StoreOptions::FromConfig(const Config& c) {
  StoreOptions o;
  o.path = c.GetString("osd_data");
  o.inline_max = static_cast<uint64_t>(c.GetInt("osd_store_inline_max"));
  o.data_file_max = static_cast<uint64_t>(c.GetInt("osd_store_data_file_max"));
  o.max_queued_txns = static_cast<size_t>(c.GetInt("osd_store_max_queued_txns"));
  o.max_group_txns = static_cast<size_t>(c.GetInt("osd_store_max_group_txns"));
  o.limits.max_object_size = static_cast<uint64_t>(c.GetInt("osd_store_max_object_size"));
  o.limits.max_xattr_size = static_cast<uint64_t>(c.GetInt("osd_store_max_xattr_size"));
  o.limits.max_omap_key_size = static_cast<uint64_t>(c.GetInt("osd_store_max_omap_key_size"));
  o.limits.max_omap_value_size = static_cast<uint64_t>(c.GetInt("osd_store_max_omap_value_size"));
  o.limits.max_txn_ops = static_cast<uint64_t>(c.GetInt("osd_store_max_txn_ops"));
  o.reclaim_interval = c.GetDouble("osd_store_reclaim_interval");
  o.compact_ratio = c.GetDouble("osd_store_compact_ratio");
  o.compact_chunk = static_cast<uint64_t>(c.GetInt("osd_store_compact_chunk"));
  if (o.path.empty()) return Invalid("osd_data is not set");
  if (o.inline_max < 1 || o.data_file_max < kBlockSize || o.max_queued_txns < 1 || o.max_group_txns < 1)
    return Invalid("osd_store_* limits must be positive (data file at least one block)");
  if (o.reclaim_interval < 0 || o.compact_ratio < 0 || o.compact_ratio > 1 || o.compact_chunk < kBlockSize)
    return Invalid("osd_store_reclaim_interval must be >= 0, osd_store_compact_ratio in [0, 1], "
                   "osd_store_compact_chunk at least one block");
  return o;
}

ObjectStore::ObjectStore(StoreOptions opts) : opts_(std::move(opts)) {}

ObjectStore::~ObjectStore() {
  // The reclaimer waits on commit-thread tasks: stop it while the queue runs.
  if (reclaimer_) reclaimer_->Stop();
  if (queue_) queue_->Stop();
  if (db_) (void)db_->Close();
}

Result<std::unique_ptr<ObjectStore>> ObjectStore::Open(const StoreOptions& opts) {
  std::unique_ptr<ObjectStore> s(new ObjectStore(opts));
  NACRE_RETURN_IF_ERROR(s->Init().Annotate("open object store " + opts.path));
  return s;
}

Status ObjectStore::Init() {
  std::error_code ec;
  std::filesystem::create_directories(opts_.path, ec);
  if (ec) return Status(ec.value() == ENOSPC ? Code::kNoSpace : Code::kIO, "create " + opts_.path + ": " + ec.message());
  rocksdb::Options ro;
  ro.create_if_missing = true;
  // Bounded so a large store does not exhaust the OSD's descriptors.
  ro.max_open_files = 512;
  ro.info_log = std::make_shared<RocksLogger>();
  rocksdb::DB* db = nullptr;
  NACRE_RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(ro, opts_.path + "/db", &db), "rocksdb open"));
  db_.reset(db);

  DataTail tail;
  std::string v;
  rocksdb::Status rs = db_->Get(rocksdb::ReadOptions(), DataTailKey(), &v);
  if (rs.ok()) {
    NACRE_RETURN_IF_ERROR(DecodeDataTail(v, &tail));
  } else if (!rs.IsNotFound()) {
    return FromRocks(rs, "read data tail");
  }
  NACRE_RETURN_IF_ERROR(data_.Open(opts_.path + "/data", tail, opts_.data_file_max));

  m_txns_ = Metrics().GetCounter("nacre_store_transactions_total", "transactions committed or failed by the object store");
  m_groups_ = Metrics().GetCounter("nacre_store_commit_groups_total", "group commits (one synced RocksDB write each)");
  m_csum_ = Metrics().GetCounter("nacre_store_checksum_errors_total", "reads refused because a block checksum did not match");
  m_commit_lat_ = Metrics().GetHistogram("nacre_store_commit_seconds", "time to commit one group");

  queue_ = std::make_unique<CommitQueue>(opts_.max_queued_txns, opts_.max_group_txns,
                                         [this](std::vector<CommitItem>& g) { CommitGroup(g); });
  queue_->Start();
  ReclaimOptions rop;
  rop.interval_sec = opts_.reclaim_interval;
  rop.compact_ratio = opts_.compact_ratio;
  rop.compact_chunk = opts_.compact_chunk;
  rop.data_file_max = opts_.data_file_max;
  reclaimer_ = std::make_unique<Reclaimer>(db_.get(), &data_, queue_.get(), rop);
  reclaimer_->Start();
  NLOG(store, kInfo) << "opened object store " << opts_.path << " data tail " << tail.file << ":" << tail.offset;
  return Status::OK();
}

Status ObjectStore::Queue(Transaction txn, CommitCallback done) {
  NACRE_RETURN_IF_ERROR(txn.Validate(opts_.limits));
  return queue_->Submit(std::move(txn), std::move(done));
}

Status ObjectStore::Apply(Transaction txn) {
  std::promise<Status> p;
  auto f = p.get_future();
  NACRE_RETURN_IF_ERROR(Queue(std::move(txn), [&p](Status s) { p.set_value(std::move(s)); }));
  return f.get();
}

Result<ReclaimRound> ObjectStore::Reclaim() { return reclaimer_->RunRound(); }

ObjectStore::Stats ObjectStore::stats() const {
  Stats s;
  ReclaimStats r = reclaimer_->stats();
  s.txns = queue_->committed();
  s.groups = queue_->groups();
  s.data_syncs = data_.syncs();
  s.csum_errors = csum_errors_.load() + r.csum_errors;
  s.data_files = r.data_files;
  s.data_live_bytes = r.live_bytes;
  s.data_dead_bytes = r.dead_bytes;
  s.reclaim_rounds = r.rounds;
  s.data_files_deleted = r.files_deleted;
  s.data_files_compacted = r.files_compacted;
  s.data_bytes_compacted = r.bytes_moved;
  return s;
}

// --- reads

std::vector<std::string> ObjectStore::ListCollections() const {
  std::vector<std::string> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek("C"); it->Valid() && it->key().size() > 0 && it->key()[0] == 'C'; it->Next()) {
    std::string_view k(it->key().data() + 1, it->key().size() - 1);
    std::string name;
    if (ConsumeEscaped(&k, &name)) out.push_back(std::move(name));
  }
  return out;
}

bool ObjectStore::CollectionExists(const std::string& coll) const {
  std::string v;
  return db_->Get(rocksdb::ReadOptions(), CollKey(coll), &v).ok();
}

Status ObjectStore::CheckCollection(const std::string& coll) const {
  return CollectionExists(coll) ? Status::OK() : NotFound("no collection " + coll);
}

Result<ObjectList> ObjectStore::ListObjects(const std::string& coll, const std::optional<ObjectId>& start_after,
                                            size_t limit) const {
  Snap snap(db_.get());
  std::string v;
  if (!db_->Get(snap.ro(), CollKey(coll), &v).ok()) return NotFound("no collection " + coll);
  limit = std::min(limit, opts_.max_list);
  ObjectList out;
  std::string prefix = OnodePrefix(coll);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(snap.ro()));
  it->Seek(start_after ? OnodeKey(coll, *start_after) : prefix);
  if (start_after && it->Valid() && it->key() == OnodeKey(coll, *start_after)) it->Next();
  for (; it->Valid() && StartsWith(it->key(), prefix); it->Next()) {
    if (out.objects.size() >= limit) {
      out.more = true;
      break;
    }
    ObjectId oid;
    if (!DecodeOnodeKey(it->key().ToStringView(), prefix.size(), &oid)) return Corruption("bad onode key");
    out.objects.push_back(std::move(oid));
  }
  NACRE_RETURN_IF_ERROR(FromRocks(it->status(), "list objects"));
  return out;
}

Result<ObjectStat> ObjectStore::Stat(const std::string& coll, const ObjectId& oid) const {
  std::string v;
  rocksdb::Status rs = db_->Get(rocksdb::ReadOptions(), OnodeKey(coll, oid), &v);
  if (rs.IsNotFound()) return NotFound("no object " + oid.name + " in " + coll);
  NACRE_RETURN_IF_ERROR(FromRocks(rs, "stat"));
  Onode o;
  NACRE_RETURN_IF_ERROR(DecodeOnode(v, &o));
  return ObjectStat{o.size, o.mtime_ns};
}

Status ObjectStore::ReadBlock(std::string_view key, std::string_view value, char* out, uint32_t* len) const {
  BlockRecord b;
  NACRE_RETURN_IF_ERROR(DecodeBlock(value, &b));
  if (b.inline_data) {
    std::memcpy(out, b.data.data(), b.len);
  } else {
    NACRE_RETURN_IF_ERROR(data_.ReadAt(b.file, b.offset, b.len, out));
  }
  *len = b.len;
  if (Crc32c(static_cast<const void*>(out), size_t{b.len}) != b.crc) {
    uint32_t block = 0;
    (void)DecodeBlockIndex(key, &block);
    std::string where = b.inline_data ? std::string("inline") : data_.PathOf(b.file) + " @" + std::to_string(b.offset);
    std::memset(out, 0, b.len);  // never hand out bad bytes, even by accident
    csum_errors_.fetch_add(1);
    if (m_csum_) m_csum_->Inc();
    NLOG(store, kError) << "checksum mismatch in block " << block << " (" << where << ")";
    return Corruption("checksum mismatch in data block " + std::to_string(block) + " (" + where + ")");
  }
  return Status::OK();
}

Result<Bytes> ObjectStore::Read(const std::string& coll, const ObjectId& oid, uint64_t off, uint64_t len) const {
  // The snapshot also keeps every data file it references open: the
  // reclaimer closes a deleted file only once no older snapshot remains.
  Snap snap(db_.get());
  std::string v;
  rocksdb::Status rs = db_->Get(snap.ro(), OnodeKey(coll, oid), &v);
  if (rs.IsNotFound()) return NotFound("no object " + oid.name + " in " + coll);
  NACRE_RETURN_IF_ERROR(FromRocks(rs, "read onode"));
  Onode o;
  NACRE_RETURN_IF_ERROR(DecodeOnode(v, &o));
  if (off >= o.size) return Bytes();
  if (len == 0 || len > o.size - off) len = o.size - off;
  std::string out(len, '\0');  // holes stay zero
  uint32_t first = static_cast<uint32_t>(off / kBlockSize);
  uint32_t last = static_cast<uint32_t>((off + len - 1) / kBlockSize);
  std::string prefix = BlockPrefix(coll, oid);
  std::string buf(kBlockSize, '\0');
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(snap.ro()));
  for (it->Seek(BlockKey(coll, oid, first)); it->Valid() && StartsWith(it->key(), prefix); it->Next()) {
    uint32_t block;
    if (!DecodeBlockIndex(it->key().ToStringView(), &block)) return Corruption("bad block key");
    if (block > last) break;
    uint32_t blen = 0;
    NACRE_RETURN_IF_ERROR(ReadBlock(it->key().ToStringView(), it->value().ToStringView(), buf.data(), &blen));
    uint64_t bstart = uint64_t{block} * kBlockSize;
    uint64_t from = std::max(bstart, off), to = std::min(bstart + blen, off + len);
    if (from < to) std::memcpy(out.data() + (from - off), buf.data() + (from - bstart), to - from);
  }
  NACRE_RETURN_IF_ERROR(FromRocks(it->status(), "read blocks"));
  return Bytes(std::move(out));
}

namespace {

Result<KvList> ScanRange(rocksdb::DB* db, const rocksdb::ReadOptions& ro, const std::string& prefix,
                         const std::string& first, const std::string& last, size_t limit) {
  KvList out;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro));
  std::string end = last.empty() ? std::string() : prefix + last;
  for (it->Seek(prefix + first); it->Valid() && StartsWith(it->key(), prefix); it->Next()) {
    if (!end.empty() && it->key().compare(end) >= 0) break;
    if (out.size() >= limit) break;
    out.emplace_back(it->key().ToString().substr(prefix.size()), it->value().ToString());
  }
  NACRE_RETURN_IF_ERROR(FromRocks(it->status(), "scan"));
  return out;
}

}  // namespace

Result<std::string> ObjectStore::GetXattr(const std::string& coll, const ObjectId& oid, const std::string& name) const {
  Snap snap(db_.get());
  std::string v;
  if (!db_->Get(snap.ro(), OnodeKey(coll, oid), &v).ok()) return NotFound("no object " + oid.name + " in " + coll);
  rocksdb::Status rs = db_->Get(snap.ro(), XattrPrefix(coll, oid) + name, &v);
  if (rs.IsNotFound()) return NotFound("no xattr " + name);
  NACRE_RETURN_IF_ERROR(FromRocks(rs, "getxattr"));
  return v;
}

Result<KvList> ObjectStore::GetXattrs(const std::string& coll, const ObjectId& oid) const {
  Snap snap(db_.get());
  std::string v;
  if (!db_->Get(snap.ro(), OnodeKey(coll, oid), &v).ok()) return NotFound("no object " + oid.name + " in " + coll);
  return ScanRange(db_.get(), snap.ro(), XattrPrefix(coll, oid), "", "", SIZE_MAX);
}

Result<KvList> ObjectStore::OmapGetRange(const std::string& coll, const ObjectId& oid, const std::string& first,
                                         const std::string& last, size_t limit) const {
  Snap snap(db_.get());
  std::string v;
  if (!db_->Get(snap.ro(), OnodeKey(coll, oid), &v).ok()) return NotFound("no object " + oid.name + " in " + coll);
  return ScanRange(db_.get(), snap.ro(), OmapPrefix(coll, oid), first, last, std::min(limit, opts_.max_list));
}

Result<KvList> ObjectStore::OmapGetAll(const std::string& coll, const ObjectId& oid) const {
  Snap snap(db_.get());
  std::string v;
  if (!db_->Get(snap.ro(), OnodeKey(coll, oid), &v).ok()) return NotFound("no object " + oid.name + " in " + coll);
  return ScanRange(db_.get(), snap.ro(), OmapPrefix(coll, oid), "", "", SIZE_MAX);
}

Result<KvList> ObjectStore::OmapGetKeys(const std::string& coll, const ObjectId& oid,
                                        const std::vector<std::string>& keys) const {
  Snap snap(db_.get());
  std::string v;
  if (!db_->Get(snap.ro(), OnodeKey(coll, oid), &v).ok()) return NotFound("no object " + oid.name + " in " + coll);
  KvList out;
  std::string prefix = OmapPrefix(coll, oid);
  for (const auto& k : keys) {
    rocksdb::Status rs = db_->Get(snap.ro(), prefix + k, &v);
    if (rs.ok()) out.emplace_back(k, v);
    else if (!rs.IsNotFound()) return FromRocks(rs, "omap get");
  }
  return out;
}

Result<std::string> ObjectStore::CollGet(const std::string& coll, const std::string& key) const {
  std::string v;
  rocksdb::Status rs = db_->Get(rocksdb::ReadOptions(), CollKvKey(coll, key), &v);
  if (rs.IsNotFound()) return NotFound("no key " + key + " in collection " + coll);
  NACRE_RETURN_IF_ERROR(FromRocks(rs, "coll get"));
  return v;
}

Result<KvList> ObjectStore::CollScan(const std::string& coll, const std::string& first, const std::string& last,
                                     size_t limit) const {
  Snap snap(db_.get());
  return ScanRange(db_.get(), snap.ro(), CollKvPrefix(coll), first, last, std::min(limit, opts_.max_list));
}

}  // namespace nacre::osd::store
