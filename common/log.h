// Leveled logging per subsystem: the one logging facility of Nacre.
//
//   NLOG(ms, kWarn) << "bad crc from " << peer;
//
// The statement's stream is built only when the subsystem's level lets the
// line through, so debug lines on hot paths cost one comparison when off.
// Levels are set from config (`log_level`, `debug_<subsys>`) at start-up and
// may be changed at run time; lines go to stderr or to `log_file`.
#pragma once

#include <atomic>
#include <sstream>
#include <string>
#include <string_view>

namespace nacre::log {

enum Level : int { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3, kTrace = 4 };

// Every subsystem that logs is named here once.
#define NACRE_LOG_SUBSYSTEMS(X) \
  X(general) X(config) X(ms) X(auth) X(sim) X(metrics) X(crush) X(paxos) \
  X(mon) X(osd) X(store) X(pg) X(mds) X(client) X(rados) X(fuse) X(admin)

enum class Subsys : int {
#define NACRE_X(name) name,
  NACRE_LOG_SUBSYSTEMS(NACRE_X)
#undef NACRE_X
  kCount
};

extern std::atomic<int> g_levels[static_cast<int>(Subsys::kCount)];

inline bool Enabled(Subsys s, Level l) {
  return l <= g_levels[static_cast<int>(s)].load(std::memory_order_relaxed);
}

void SetLevel(Subsys s, Level l);
void SetAllLevels(Level l);
// Parses "error|warn|info|debug|trace" or a digit 0..4.
bool ParseLevel(std::string_view text, Level* out);
// Looks a subsystem up by name ("ms"); false if unknown.
bool SubsysByName(std::string_view name, Subsys* out);
const char* SubsysName(Subsys s);

// Sends lines to `path` (appending) instead of stderr; empty means stderr.
bool SetLogFile(const std::string& path);
// A short tag for this process's lines, e.g. "mon.a".
void SetProcessTag(std::string tag);

// One log line, written when it goes out of scope.
class Line {
 public:
  Line(Subsys s, Level l, const char* file, int line);
  ~Line();
  std::ostream& stream() { return os_; }

 private:
  Subsys subsys_;
  Level level_;
  std::ostringstream os_;
};

// Turns the streamed expression into void so both arms of the conditional
// agree; `&` binds looser than `<<`, so the whole line is streamed first.
struct Voidify {
  void operator&(std::ostream&) {}
};

}  // namespace nacre::log

// An expression, not an if-statement, so NLOG inside an unbraced if/else
// cannot capture the else.
#define NLOG(subsys, level)                                                           \
  !::nacre::log::Enabled(::nacre::log::Subsys::subsys, ::nacre::log::level)           \
      ? (void)0                                                                       \
      : ::nacre::log::Voidify() &                                                     \
            ::nacre::log::Line(::nacre::log::Subsys::subsys, ::nacre::log::level, __FILE__, __LINE__).stream()
