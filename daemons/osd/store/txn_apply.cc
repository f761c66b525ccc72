// The commit thread's half of ObjectStore: turns a group of transactions into
// one RocksDB batch plus data-file appends, then makes it durable.
//
// Every transaction is applied to a WriteBatchWithIndex layered over the
// database, so an operation reads the effects of the ones before it (in its
// own and in earlier transactions of the group). A savepoint per transaction
// lets a failing one be rolled back without touching its neighbours. Only
// the commit thread writes the database, so batch-over-DB is exactly the
// state after the preceding transactions.
#include <chrono>
#include <cstring>

#include <rocksdb/db.h>
#include <rocksdb/utilities/write_batch_with_index.h>

#include "common/clock.h"
#include "common/crc32c.h"
#include "common/log.h"
#include "common/metrics.h"
#include "daemons/osd/store/keys.h"
#include "daemons/osd/store/object_store.h"

namespace nacre::osd::store {

namespace {

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::OK();
  if (s.IsNoSpace()) return Status(Code::kNoSpace, what + ": " + s.ToString());
  return IOError(what + ": " + s.ToString());
}


}  // namespace

class ObjectStore::TxnApplier {
 public:
  TxnApplier(ObjectStore* store, rocksdb::WriteBatchWithIndex* wb) : s_(store), wb_(wb) {}

  Status Apply(const Transaction& t) {
    for (size_t i = 0; i < t.ops().size(); ++i) {
      const Op& op = t.ops()[i];
      Status st = ApplyOp(op);
      if (!st.ok()) return st.Annotate("op " + std::to_string(i) + " (" + OpName(op.type) + ")");
    }
    return Status::OK();
  }

 private:
  Status Get(const std::string& key, std::string* v, bool* found) {
    rocksdb::Status rs = wb_->GetFromBatchAndDB(s_->db_.get(), rocksdb::ReadOptions(), key, v);
    *found = rs.ok();
    if (rs.ok() || rs.IsNotFound()) return Status::OK();
    return FromRocks(rs, "read");
  }
  Status Put(const std::string& k, const std::string& v) { return FromRocks(wb_->Put(k, v), "batch put"); }
  Status Del(const std::string& k) { return FromRocks(wb_->Delete(k), "batch delete"); }

  // Deletes every key >= from that starts with prefix.
  Status DeletePrefix(const std::string& prefix, const std::string& from, const std::string& until = "") {
    std::vector<std::string> keys;
    {
      std::unique_ptr<rocksdb::Iterator> it(wb_->NewIteratorWithBase(s_->db_->NewIterator(rocksdb::ReadOptions())));
      for (it->Seek(from.empty() ? prefix : from); it->Valid(); it->Next()) {
        rocksdb::Slice k = it->key();
        if (!k.starts_with(prefix)) break;
        if (!until.empty() && k.compare(until) >= 0) break;
        keys.push_back(k.ToString());
      }
      NACRE_RETURN_IF_ERROR(FromRocks(it->status(), "iterate"));
    }
    for (const auto& k : keys) NACRE_RETURN_IF_ERROR(Del(k));
    return Status::OK();
  }

  Status NeedCollection(const std::string& coll) {
    std::string v;
    bool found;
    NACRE_RETURN_IF_ERROR(Get(CollKey(coll), &v, &found));
    return found ? Status::OK() : NotFound("no collection " + coll);
  }

  Status LoadOnode(const Op& op, Onode* o, bool* exists) {
    std::string v;
    NACRE_RETURN_IF_ERROR(Get(OnodeKey(op.coll, op.oid), &v, exists));
    if (*exists) return DecodeOnode(v, o);
    *o = Onode{};
    return Status::OK();
  }
  Status NeedOnode(const Op& op, Onode* o) {
    bool exists;
    NACRE_RETURN_IF_ERROR(LoadOnode(op, o, &exists));
    return exists ? Status::OK() : NotFound("no object " + op.oid.name + " in " + op.coll);
  }
  Status SaveOnode(const Op& op, Onode o) {
    o.mtime_ns = static_cast<uint64_t>(WallClockNs());
    return Put(OnodeKey(op.coll, op.oid), EncodeOnode(o));
  }

  // The valid bytes of one block ("" for a hole), verified.
  Status ReadBlockAt(const Op& op, uint32_t block, std::string* out) {
    std::string key = BlockKey(op.coll, op.oid, block), v;
    bool found;
    NACRE_RETURN_IF_ERROR(Get(key, &v, &found));
    out->clear();
    if (!found) return Status::OK();
    out->resize(kBlockSize);
    uint32_t len = 0;
    NACRE_RETURN_IF_ERROR(s_->ReadBlock(key, v, out->data(), &len));
    out->resize(len);
    return Status::OK();
  }

  Status Write(const Op& op, uint64_t off, const Bytes& data) {
    Onode o;
    bool exists;
    NACRE_RETURN_IF_ERROR(LoadOnode(op, &o, &exists));
    uint64_t end = off + data.size();
    // Split into per-block contents; whole or tail-of-object blocks are
    // slices of the caller's buffer (no copy), partial ones are merged.
    std::vector<std::pair<uint32_t, Bytes>> pieces;
    for (uint64_t pos = off; pos < end;) {
      uint32_t b = static_cast<uint32_t>(pos / kBlockSize);
      uint64_t bstart = uint64_t{b} * kBlockSize, boff = pos - bstart;
      uint64_t n = std::min<uint64_t>(kBlockSize - boff, end - pos);
      Bytes piece = data.Slice(pos - off, n);
      if (boff == 0 && (n == kBlockSize || bstart + n >= o.size)) {
        pieces.emplace_back(b, std::move(piece));
      } else {
        std::string old;
        NACRE_RETURN_IF_ERROR(ReadBlockAt(op, b, &old));
        if (old.size() < boff + n) old.resize(boff + n, '\0');
        std::memcpy(old.data() + boff, piece.data(), n);
        pieces.emplace_back(b, Bytes(std::move(old)));
      }
      pos += n;
    }
    if (data.size() >= s_->opts_.inline_max) {
      // Large: one contiguous append of every block, RocksDB keeps references.
      std::vector<iovec> iov;
      uint64_t total = 0;
      for (const auto& [b, c] : pieces) {
        char* p = const_cast<char*>(c.data());
        if (!iov.empty() && static_cast<char*>(iov.back().iov_base) + iov.back().iov_len == p)
          iov.back().iov_len += c.size();
        else
          iov.push_back(iovec{p, c.size()});
        total += c.size();
      }
      NACRE_ASSIGN_OR_RETURN(DataTail at, s_->data_.Append(iov, total));
      uint64_t foff = at.offset;
      for (const auto& [b, c] : pieces) {
        NACRE_RETURN_IF_ERROR(Put(BlockKey(op.coll, op.oid, b),
                                  EncodeFileBlock(static_cast<uint32_t>(c.size()), Crc32c(c.view()), at.file, foff)));
        foff += c.size();
      }
    } else {
      for (const auto& [b, c] : pieces) NACRE_RETURN_IF_ERROR(Put(BlockKey(op.coll, op.oid, b), EncodeInlineBlock(c.view())));
    }
    if (!data.empty()) o.size = std::max(o.size, end);
    return SaveOnode(op, o);
  }

  Status Truncate(const Op& op, uint64_t size) {
    Onode o;
    bool exists;
    NACRE_RETURN_IF_ERROR(LoadOnode(op, &o, &exists));
    if (size < o.size) {
      uint32_t first_dead = static_cast<uint32_t>((size + kBlockSize - 1) / kBlockSize);
      NACRE_RETURN_IF_ERROR(DeletePrefix(BlockPrefix(op.coll, op.oid), BlockKey(op.coll, op.oid, first_dead)));
      if (size % kBlockSize != 0) {
        uint32_t b = static_cast<uint32_t>(size / kBlockSize);
        std::string old;
        NACRE_RETURN_IF_ERROR(ReadBlockAt(op, b, &old));
        // Keep the invariant that no block holds bytes at or past the size,
        // so growing again later reads zeros there.
        if (old.size() > size % kBlockSize) {
          old.resize(size % kBlockSize);
          NACRE_RETURN_IF_ERROR(Put(BlockKey(op.coll, op.oid, b), EncodeInlineBlock(old)));
        }
      }
    }
    o.size = size;
    return SaveOnode(op, o);
  }

  Status Zero(const Op& op) {
    Onode o;
    bool exists;
    NACRE_RETURN_IF_ERROR(LoadOnode(op, &o, &exists));
    uint64_t end = std::min(op.off + op.len, o.size);
    for (uint64_t pos = op.off; pos < end;) {
      uint32_t b = static_cast<uint32_t>(pos / kBlockSize);
      uint64_t bstart = uint64_t{b} * kBlockSize, boff = pos - bstart;
      uint64_t n = std::min<uint64_t>(kBlockSize - boff, end - pos);
      std::string key = BlockKey(op.coll, op.oid, b);
      if (boff == 0 && (n == kBlockSize || bstart + n >= o.size)) {
        NACRE_RETURN_IF_ERROR(Del(key));  // a hole reads as zeros
      } else {
        std::string old;
        NACRE_RETURN_IF_ERROR(ReadBlockAt(op, b, &old));
        if (old.size() > boff) {
          std::memset(old.data() + boff, 0, std::min<uint64_t>(n, old.size() - boff));
          NACRE_RETURN_IF_ERROR(Put(key, EncodeInlineBlock(old)));
        }
      }
      pos += n;
    }
    return SaveOnode(op, o);
  }

  Status ApplyOp(const Op& op) {
    std::string v;
    bool found;
    if (op.type == OpType::kCreateCollection) {
      NACRE_RETURN_IF_ERROR(Get(CollKey(op.coll), &v, &found));
      if (found) return Exists("collection " + op.coll + " exists");
      return Put(CollKey(op.coll), "");
    }
    NACRE_RETURN_IF_ERROR(NeedCollection(op.coll));
    Onode o;
    switch (op.type) {
      case OpType::kRemoveCollection:
        for (char space : {'K', 'O', 'D', 'X', 'M'})
          NACRE_RETURN_IF_ERROR(DeletePrefix(CollSpacePrefix(space, op.coll), ""));
        return Del(CollKey(op.coll));
      case OpType::kCollPut:
        return Put(CollKvKey(op.coll, op.key), op.value);
      case OpType::kCollDelete:
        return Del(CollKvKey(op.coll, op.key));
      case OpType::kTouch:
        NACRE_RETURN_IF_ERROR(LoadOnode(op, &o, &found));
        return SaveOnode(op, o);
      case OpType::kWrite:
        return Write(op, op.off, op.data);
      case OpType::kWriteFull:
        NACRE_RETURN_IF_ERROR(Truncate(op, 0));
        return Write(op, 0, op.data);
      case OpType::kTruncate:
        return Truncate(op, op.off);
      case OpType::kZero:
        return Zero(op);
      case OpType::kRemove:
        NACRE_RETURN_IF_ERROR(NeedOnode(op, &o));
        NACRE_RETURN_IF_ERROR(DeletePrefix(BlockPrefix(op.coll, op.oid), ""));
        NACRE_RETURN_IF_ERROR(DeletePrefix(XattrPrefix(op.coll, op.oid), ""));
        NACRE_RETURN_IF_ERROR(DeletePrefix(OmapPrefix(op.coll, op.oid), ""));
        return Del(OnodeKey(op.coll, op.oid));
      case OpType::kSetXattr:
        NACRE_RETURN_IF_ERROR(LoadOnode(op, &o, &found));
        NACRE_RETURN_IF_ERROR(Put(XattrPrefix(op.coll, op.oid) + op.key, op.value));
        return SaveOnode(op, o);
      case OpType::kRmXattr:
        NACRE_RETURN_IF_ERROR(NeedOnode(op, &o));
        NACRE_RETURN_IF_ERROR(Del(XattrPrefix(op.coll, op.oid) + op.key));
        return SaveOnode(op, o);
      case OpType::kOmapSet:
        NACRE_RETURN_IF_ERROR(LoadOnode(op, &o, &found));
        for (const auto& [k, val] : op.kvs) NACRE_RETURN_IF_ERROR(Put(OmapPrefix(op.coll, op.oid) + k, val));
        return SaveOnode(op, o);
      case OpType::kOmapRm:
        NACRE_RETURN_IF_ERROR(NeedOnode(op, &o));
        for (const auto& k : op.keys) NACRE_RETURN_IF_ERROR(Del(OmapPrefix(op.coll, op.oid) + k));
        return SaveOnode(op, o);
      case OpType::kOmapRmRange: {
        NACRE_RETURN_IF_ERROR(NeedOnode(op, &o));
        std::string p = OmapPrefix(op.coll, op.oid);
        NACRE_RETURN_IF_ERROR(DeletePrefix(p, p + op.key, op.key2.empty() ? "" : p + op.key2));
        return SaveOnode(op, o);
      }
      case OpType::kOmapClear:
        NACRE_RETURN_IF_ERROR(NeedOnode(op, &o));
        NACRE_RETURN_IF_ERROR(DeletePrefix(OmapPrefix(op.coll, op.oid), ""));
        return SaveOnode(op, o);
      case OpType::kCreateCollection:
        break;
    }
    return Invalid("unknown op");
  }

  ObjectStore* s_;
  rocksdb::WriteBatchWithIndex* wb_;
};

void ObjectStore::CommitGroup(std::vector<CommitItem>& group) {
  auto t0 = std::chrono::steady_clock::now();
  // overwrite_key: later puts of a key in the group replace earlier ones in
  // the index, so reads through the batch see the newest value.
  rocksdb::WriteBatchWithIndex wb(rocksdb::BytewiseComparator(), 0, /*overwrite_key=*/true);
  DataTail before = data_.tail();
  TxnApplier applier(this, &wb);
  size_t applied = 0;
  for (auto& item : group) {
    wb.SetSavePoint();
    item.result = applier.Apply(item.txn);
    if (item.result.ok()) {
      ++applied;
      wb.PopSavePoint().PermitUncheckedError();
    } else {
      NLOG(store, kDebug) << "transaction refused: " << item.result.ToString();
      wb.RollbackToSavePoint().PermitUncheckedError();
    }
  }
  auto t_applied = std::chrono::steady_clock::now();
  auto t_synced = t_applied;
  DataTail after = data_.tail();
  if (after.file != before.file || after.offset != before.offset) wb.Put(DataTailKey(), EncodeDataTail(after)).PermitUncheckedError();
  Status st;
  if (applied > 0 || wb.GetWriteBatch()->Count() > 0) {
    // Data first: a reference must never reach RocksDB before its bytes are
    // on stable storage.
    st = data_.Sync();
    t_synced = std::chrono::steady_clock::now();
    if (st.ok()) {
      rocksdb::WriteOptions wo;
      wo.sync = true;
      st = FromRocks(db_->Write(wo, wb.GetWriteBatch()), "commit");
    }
    if (!st.ok()) {
      NLOG(store, kError) << "commit of " << group.size() << " transactions failed: " << st.ToString();
      for (auto& item : group)
        if (item.result.ok()) item.result = st;
    }
  }
  auto t_end = std::chrono::steady_clock::now();
  auto us = [](auto d) { return std::chrono::duration_cast<std::chrono::microseconds>(d).count(); };
  NLOG(store, kDebug) << "commit group of " << group.size() << " (" << applied << " ok): apply " << us(t_applied - t0)
                      << " us, data sync " << us(t_synced - t_applied) << " us, rocksdb " << us(t_end - t_synced)
                      << " us";
  m_txns_->Inc(group.size());
  m_groups_->Inc();
  m_commit_lat_->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

}  // namespace nacre::osd::store
