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
