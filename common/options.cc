// The table of every configuration option in Nacre. Add a row here, and only
// here, for each new option; `--help` on every binary prints this table.
#include "common/config.h"
#include "common/log.h"

namespace nacre {

namespace {

const OptionDef kOptions[] = {
    // --- cluster and identity
    {"mon_host", OptType::kString, "", "monitor addresses, comma separated host:port"},
    {"keyring", OptType::kString, "", "keyring file holding this entity's key"},
    {"fsid", OptType::kString, "", "cluster id (a UUID), checked on every connection"},
    {"public_addr", OptType::kString, "127.0.0.1", "address this daemon binds to and advertises"},
    {"public_port", OptType::kInt, "0", "port this daemon binds to; 0 picks a free one"},
    {"run_dir", OptType::kString, "", "directory for pid files and sockets"},

    // --- monitors
    {"mon_data", OptType::kString, "", "monitor data directory (its RocksDB store)"},
    {"mon_initial_members", OptType::kString, "", "names of the first monitors, in mon_host order: a,b,c"},
    {"mon_osd_down_out_interval", OptType::kSeconds, "600", "a down OSD is marked out after this many seconds"},
    {"mon_osd_min_down_reporters", OptType::kInt, "2", "distinct OSDs that must report a peer failed before it is marked down"},
    {"mon_osd_report_timeout", OptType::kSeconds, "30", "an OSD without a beacon for this long is marked down"},
    {"mon_command_timeout", OptType::kSeconds, "10", "how long a write command may wait for its commit"},
    {"mon_pg_stats_max_age", OptType::kSeconds, "60", "an OSD's PG report older than this no longer counts in pg stat, status and health"},
    {"mds_beacon_interval", OptType::kSeconds, "1", "seconds between an MDS's beacons to the monitors"},
    {"mds_beacon_grace", OptType::kSeconds, "15", "an MDS without a beacon for this long is removed from the FSMap; its rank fails over to a standby"},

    // --- OSD object store (daemons/osd/store/object_store.h)
    {"osd_data", OptType::kString, "", "OSD data directory: its object store (RocksDB in db/, large extents in data/)"},
    {"osd_store_inline_max", OptType::kSize, "64K", "writes smaller than this are stored inside RocksDB; larger ones go once to the data files"},
    {"osd_store_data_file_max", OptType::kSize, "1G", "a data file is sealed and a new one started at this size"},
    {"osd_store_max_object_size", OptType::kSize, "128M", "largest object the store accepts (E2BIG beyond)"},
    {"osd_store_max_xattr_size", OptType::kSize, "64K", "largest xattr value"},
    {"osd_store_max_omap_key_size", OptType::kSize, "4K", "largest omap (and collection kv) key"},
    {"osd_store_max_omap_value_size", OptType::kSize, "1M", "largest omap (and collection kv) value"},
    {"osd_store_max_txn_ops", OptType::kInt, "1024", "most operations one transaction may hold"},
    {"osd_store_max_queued_txns", OptType::kInt, "1024", "transactions waiting for the commit thread before submitters block"},
    {"osd_store_max_group_txns", OptType::kInt, "256", "most transactions committed together in one synced write"},
    {"osd_store_reclaim_interval", OptType::kSeconds, "5", "seconds between rounds that delete dead data files and compact mostly-dead ones; 0 disables"},
    {"osd_store_compact_ratio", OptType::kDouble, "0.5", "a sealed data file with less than this fraction of live bytes has its live blocks moved out"},
    {"osd_store_compact_chunk", OptType::kSize, "4M", "bytes one compaction step moves while holding the commit thread"},

    // --- OSD daemon
    {"osd_crush_host", OptType::kString, "", "host bucket this OSD sits under in CRUSH; empty: the machine's hostname"},
    {"osd_device_class", OptType::kString, "hdd", "CRUSH device class of this OSD (hdd, ssd, nvme)"},
    {"osd_beacon_interval", OptType::kSeconds, "5", "seconds between beacons to the monitors"},
    {"osd_heartbeat_interval", OptType::kSeconds, "1", "seconds between heartbeat pings to every other up OSD"},
    {"osd_heartbeat_grace", OptType::kSeconds, "8", "a peer silent this long is reported to the monitors as failed"},
    {"osd_pg_log_max_entries", OptType::kInt, "3000", "PG log entries kept; a member further behind is backfilled"},
    {"osd_recovery_max_active", OptType::kInt, "4", "objects a PG recovers at once, so client I/O keeps flowing"},
    {"osd_pg_stats_interval", OptType::kSeconds, "2", "seconds between PG statistics reports to the monitors"},
    {"osd_auth_entity", OptType::kString, "client.bootstrap-osd", "entity (and keyring key) an OSD uses with the monitors"},

    // --- MDS daemon (daemons/mds/)
    {"mds_cache_memory_limit", OptType::kSize, "1G", "bytes of directories an MDS keeps cached; clean, unreferenced ones beyond are trimmed"},
    {"mds_journal_segment_bytes", OptType::kSize, "4M", "an MDS journal segment object is closed at this size"},
    {"mds_journal_flush_interval", OptType::kSeconds, "5", "seconds between flushes of dirty directories to their objects (which trims the journal)"},
    {"mds_journal_max_segments", OptType::kInt, "8", "live journal segments beyond which the MDS flushes at once"},
    {"mds_session_timeout", OptType::kSeconds, "60", "a client session silent this long is closed: its caps and locks are dropped"},
    {"mds_op_complaint_time", OptType::kSeconds, "30", "a request waiting longer counts as slow in beacons and health"},

    // --- librados clients (librados/rados.h)
    {"client_mount_timeout", OptType::kSeconds, "300", "how long a client waits for its first OSDMap from the monitors"},
    {"rados_osd_op_timeout", OptType::kSeconds, "0", "an OSD op not answered by then completes with ETIMEDOUT; 0 waits forever (resending as maps change)"},
    {"rados_osd_backoff_min", OptType::kSeconds, "0.05", "first delay before resending an op the OSD asked to retry or whose connection reset"},
    {"rados_osd_backoff_max", OptType::kSeconds, "1", "largest such delay (it doubles per consecutive resend)"},

    // --- logging
    {"log_level", OptType::kString, "info", "default level of every subsystem: error|warn|info|debug|trace"},
    {"log_file", OptType::kString, "", "log to this file instead of stderr"},

    // --- metrics
    {"metrics_port", OptType::kInt, "0", "port of the Prometheus /metrics endpoint; 0 picks a free one, -1 disables"},

    // --- messenger
    {"ms_max_frame_bytes", OptType::kSize, "64M", "largest frame accepted; a larger one closes the connection"},
    {"ms_max_header_bytes", OptType::kSize, "64K", "largest protobuf header in a frame"},
    {"ms_max_buffered_bytes", OptType::kSize, "256M", "bytes queued for sending per connection before send fails"},
    {"ms_keepalive_interval", OptType::kSeconds, "1", "seconds between keepalives on an idle connection"},
    {"ms_connection_timeout", OptType::kSeconds, "10", "a connection silent this long is reset"},
    {"ms_connect_timeout", OptType::kSeconds, "5", "seconds allowed for connect plus handshake"},
    {"ms_reconnect_backoff_min", OptType::kSeconds, "0.05", "first reconnect delay for a lossless peer"},
    {"ms_reconnect_backoff_max", OptType::kSeconds, "2", "largest reconnect delay for a lossless peer"},
    {"ms_handshake_max_skew", OptType::kSeconds, "300", "challenges older than this are refused as replays"},
    {"ms_inject_socket_failures", OptType::kInt, "0", "testing only: close a messenger socket about once every N messages sent; 0 is off"},

    // --- monitor paxos and elections (daemons/mon/paxos_options.h)
    {"paxos_tick_interval", OptType::kSeconds, "0.05", "how often the monitor ticks its Paxos core; every Paxos time is counted in these ticks"},
    {"mon_election_timeout", OptType::kSeconds, "1", "an election that has not produced a leader by then starts over"},
    {"mon_lease", OptType::kSeconds, "1", "how long a lease lets a peon monitor answer reads"},
    {"mon_lease_renew_interval_factor", OptType::kDouble, "0.6", "the leader renews leases every mon_lease times this"},
    {"mon_lease_ack_timeout_factor", OptType::kDouble, "2", "a quorum member silent for mon_lease times this triggers an election"},
    {"paxos_min", OptType::kInt, "500", "committed Paxos versions every monitor keeps; older ones are trimmed"},
    {"paxos_trim_min", OptType::kInt, "250", "trim only once this many versions beyond paxos_min have accumulated"},
    {"paxos_max_pending_proposals", OptType::kInt, "64", "proposals a monitor holds uncommitted before refusing more (EAGAIN)"},
    {"paxos_max_value_bytes", OptType::kSize, "4M", "largest value one Paxos version may hold"},
    {"paxos_max_message_bytes", OptType::kSize, "32M", "catch-up messages between monitors stay below this size"},
    {"paxos_max_catchup_versions", OptType::kInt, "100", "committed versions sent per catch-up message"},
    {"paxos_propose_timeout", OptType::kSeconds, "30", "a proposal not committed by then is reported as timed out (outcome unknown)"},
};

// debug_<subsys> for every log subsystem, generated from the one list in log.h.
const OptionDef kDebugOptions[] = {
#define NACRE_X(name) {"debug_" #name, OptType::kString, "", "log level of the " #name " subsystem (overrides log_level)"},
    NACRE_LOG_SUBSYSTEMS(NACRE_X)
#undef NACRE_X
};

}  // namespace

const std::vector<OptionDef>& AllOptions() {
  static const std::vector<OptionDef> all = [] {
    std::vector<OptionDef> v(std::begin(kOptions), std::end(kOptions));
    v.insert(v.end(), std::begin(kDebugOptions), std::end(kDebugOptions));
    return v;
  }();
  return all;
}

}  // namespace nacre
