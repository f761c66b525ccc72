#include "common/keyring.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "common/config.h"

namespace nacre {

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<std::string> Base64Decode(std::string_view b64) {
  if (b64.empty() || b64.size() % 4 != 0) return Invalid("base64 length is not a multiple of 4");
  std::string out(b64.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
  if (n < 0) return Invalid("not valid base64");
  // EVP_DecodeBlock keeps the padding bytes as zeros; drop them.
  size_t pad = 0;
  if (b64.back() == '=') ++pad;
  if (b64.size() >= 2 && b64[b64.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string GenerateKey() {
  unsigned char buf[kKeyBytes];
  if (RAND_bytes(buf, sizeof buf) != 1) abort();  // no entropy: nothing safe to do
  return Base64Encode(std::string_view(reinterpret_cast<char*>(buf), sizeof buf));
}

Result<Keyring> Keyring::Parse(std::string_view text) {
  if (text.size() > kMaxKeyringBytes) return TooBig("keyring larger than 1 MiB");
  NACRE_ASSIGN_OR_RETURN(IniSections ini, ParseIni(text));
  Keyring kr;
  for (const auto& [section, kv] : ini) {
    if (kv.empty()) continue;  // ParseIni's implicit [global] with no keys
    KeyEntry e;
    e.entity = section;
    for (const auto& [k, v] : kv) {
      if (k == "key") {
        e.key_b64 = v;
      } else if (k.rfind("caps_", 0) == 0) {
        e.caps[k.substr(5)] = v;
      } else {
        return Invalid("keyring [" + section + "]: unknown field '" + k + "'");
      }
    }
    if (e.key_b64.empty()) return Invalid("keyring [" + section + "]: no key");
    auto secret = Base64Decode(e.key_b64);
    if (!secret.ok()) return secret.status().Annotate("keyring [" + section + "]");
    e.secret = std::move(secret).value();
    kr.entries_[e.entity] = std::move(e);
  }
  return kr;
}

Result<Keyring> Keyring::Load(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return NotFound("cannot open keyring " + path);
  std::string text(kMaxKeyringBytes + 1, '\0');
  f.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(f.gcount()));
  auto r = Parse(text);
  if (!r.ok()) return r.status().Annotate(path);
  return r;
}

std::string Keyring::ToText() const {
  std::string out;
  for (const auto& [name, e] : entries_) {
    out += "[" + name + "]\n\tkey = " + e.key_b64 + "\n";
    for (const auto& [svc, cap] : e.caps) out += "\tcaps " + svc + " = \"" + cap + "\"\n";
  }
  return out;
}

Status Keyring::Save(const std::string& path) const {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return IOError("cannot create " + tmp);
  std::string text = ToText();
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return IOError("cannot write keyring " + path);
  }
  return Status::OK();
}

Status Keyring::Add(KeyEntry e) {
  if (e.entity.find('.') == std::string::npos) return Invalid("entity must be TYPE.ID: '" + e.entity + "'");
  if (e.secret.empty()) {
    auto s = Base64Decode(e.key_b64);
    if (!s.ok()) return s.status();
    e.secret = std::move(s).value();
  }
  std::string name = e.entity;
  entries_[name] = std::move(e);
  return Status::OK();
}

const KeyEntry* Keyring::Get(std::string_view entity) const {
  auto it = entries_.find(entity);
  return it == entries_.end() ? nullptr : &it->second;
}

bool Keyring::Remove(std::string_view entity) {
  auto it = entries_.find(entity);
  if (it == entries_.end()) return false;
  entries_.erase(it);
  return true;
}

}  // namespace nacre
