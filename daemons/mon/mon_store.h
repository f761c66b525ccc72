// MonStore: the monitor's durable state in RocksDB.
//
// Holds the Paxos state and log and the applied cluster maps, written
// together in one batch per Ready (paxos_driver.h), so a crash never leaves
// the maps and the Paxos log disagreeing. Every batch is synced before
// Commit() returns: Paxos promises and accepted values must survive a crash
// before the monitor answers a peer.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "daemons/mon/paxos_driver.h"

namespace rocksdb {
class DB;
}

namespace nacre::mon {

class MonStore : public PaxosDurableStore {
 public:
  ~MonStore() override;
  // Creates the database if `create` is set; otherwise it must exist.
  static Result<std::unique_ptr<MonStore>> Open(const std::string& dir, bool create);

  Result<std::optional<std::string>> Get(const std::string& key) const override;
  Status Commit(std::vector<StoreWrite> batch) override;  // atomic and synced

 private:
  explicit MonStore(rocksdb::DB* db);
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace nacre::mon
