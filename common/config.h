// Config: the one configuration system of Nacre.
//
// Every option is declared once, in the table in options.cc, with its type,
// default and description. Values come from, lowest to highest precedence:
// the default, `nacre.conf` sections [global], [TYPE] and [TYPE.ID] (for
// entity TYPE.ID, e.g. osd.3), then `--option value` flags. Option names
// accept spaces, dashes and underscores alike ("mon host" == "mon_host"),
// as operators coming from ceph.conf expect.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace nacre {

enum class OptType { kString, kInt, kBool, kDouble, kSize, kSeconds };

struct OptionDef {
  const char* name;         // canonical, underscores
  OptType type;
  const char* default_value;
  const char* description;
};

// The whole table (options.cc), and a lookup by any spelling of the name.
const std::vector<OptionDef>& AllOptions();
const OptionDef* FindOption(std::string_view name);
// "mon host" / "mon-host" / "mon_host" -> "mon_host"
std::string NormalizeOptionName(std::string_view name);

// A parsed INI file: section -> key -> value. Keys are normalized.
using IniSections = std::map<std::string, std::map<std::string, std::string>>;

// Limits on what a config file may be, so a hostile or broken file cannot
// exhaust memory.
inline constexpr size_t kMaxConfigBytes = 1 << 20;
inline constexpr size_t kMaxConfigLineBytes = 4096;

// Parses ceph.conf-style INI: [section], key = value, '#' and ';' comments,
// values optionally in double quotes. Errors name the line.
Result<IniSections> ParseIni(std::string_view text);

// Validates `value` for an option of type `t`; returns its canonical form.
Result<std::string> ValidateOptionValue(OptType t, std::string_view value);

class Config {
 public:
  // `entity` selects sections: "osd.3" reads [global], [osd], [osd.3].
  explicit Config(std::string entity = "client.admin");

  const std::string& entity() const { return entity_; }
  std::string entity_type() const;  // "osd"
  std::string entity_id() const;    // "3"

  // Applies the relevant sections of an INI text / file. Unknown options are
  // an error naming the line, so typos do not pass silently.
  Status ApplyIniText(std::string_view text);
  Status ApplyFile(const std::string& path);

  // Consumes the generic flags from argv-style `args`: `--conf PATH`,
  // `--name|-n TYPE.ID`, `--id ID` (with `default_type`), and
  // `--<option> VALUE` / `--<option>=VALUE` for every declared option;
  // leaves other arguments in place, in order. The conf file is applied
  // before the option flags so flags win. Sets *help when --help/-h is seen.
  Status ApplyArgs(std::vector<std::string>* args, const std::string& default_type, bool* help);

  Status Set(std::string_view name, std::string_view value);

  // Expands $id, $type and $name (Ceph's metavariables) in the value.
  std::string GetString(std::string_view name) const;
  int64_t GetInt(std::string_view name) const;     // also kSize (bytes)
  bool GetBool(std::string_view name) const;
  double GetDouble(std::string_view name) const;   // also kSeconds
  // True when the value was set by a file or flag rather than defaulted.
  bool IsSet(std::string_view name) const;

  // All values, for `config dump` style output.
  std::map<std::string, std::string> Dump() const;

  // Applies `log_level`, `debug_<subsys>` and `log_file` to the logger.
  Status ApplyLogging() const;

  // Text for --help: usage line, then every option with type, default and
  // description.
  static std::string HelpText(std::string_view usage);

 private:
  const std::string& Raw(std::string_view name) const;

  std::string entity_;
  std::map<std::string, std::string, std::less<>> values_;
};

// Parses "4096", "4K", "16M", "2G", "1T" (powers of 1024).
Result<int64_t> ParseSize(std::string_view text);

}  // namespace nacre
