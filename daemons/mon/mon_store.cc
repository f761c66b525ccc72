#include "daemons/mon/mon_store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

namespace nacre::mon {

MonStore::MonStore(rocksdb::DB* db) : db_(db) {}
MonStore::~MonStore() = default;

Result<std::unique_ptr<MonStore>> MonStore::Open(const std::string& dir, bool create) {
  rocksdb::Options opts;
  opts.create_if_missing = create;
  // The monitor store is small; keep RocksDB's footprint small too.
  opts.write_buffer_size = 8 << 20;
  opts.max_write_buffer_number = 2;
  opts.keep_log_file_num = 2;
  opts.max_open_files = 256;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(opts, dir, &db);
  if (!s.ok()) return IOError("cannot open monitor store " + dir + ": " + s.ToString());
  return std::unique_ptr<MonStore>(new MonStore(db));
}

Status MonStore::Commit(std::vector<StoreWrite> batch) {
  if (batch.empty()) return Status::OK();
  rocksdb::WriteBatch wb;
  for (const auto& w : batch) {
    if (w.value) wb.Put(w.key, *w.value);
    else wb.Delete(w.key);
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s = db_->Write(wo, &wb);
  if (!s.ok()) return IOError("monitor store write failed: " + s.ToString());
  return Status::OK();
}

Result<std::optional<std::string>> MonStore::Get(const std::string& key) const {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), key, &v);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return IOError("monitor store read failed: " + s.ToString());
  return std::optional<std::string>(std::move(v));
}

}  // namespace nacre::mon
