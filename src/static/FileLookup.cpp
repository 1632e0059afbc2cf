#include "FileLookup.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <new>

namespace doorman::statics::detail {
namespace {

LookupOutcome outcomeOf(int err) noexcept {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ELOOP:
    case ENAMETOOLONG:
      return LookupOutcome::NotFound;
    case EACCES:
    case EPERM:
      return LookupOutcome::Forbidden;
    default:
      return LookupOutcome::Failed;
  }
}

void fail(LookupOutput& out, int err) noexcept {
  out.outcome = outcomeOf(err);
  out.error = err;
}

/// realpath(3) into a std::string; 0 or an errno.
int realPath(const std::string& path, std::string& out) {
  char* resolved = ::realpath(path.c_str(), nullptr);
  if (resolved == nullptr) {
    return errno;
  }
  int err = 0;
  try {
    out.assign(resolved);
  } catch (const std::bad_alloc&) {
    err = ENOMEM;
  }
  std::free(resolved);
  return err;
}

bool isUnder(const std::string& path, const std::string& rootReal) noexcept {
  if (path.compare(0, rootReal.size(), rootReal) != 0) {
    return false;
  }
  // "/srv/www" owns "/srv/www" and "/srv/www/x", not "/srv/wwwx"; "/" owns everything.
  return path.size() == rootReal.size() || rootReal.back() == '/' || path[rootReal.size()] == '/';
}

/// Opens `path` after the symlink check; returns the fd or -errno. ENOENT when the
/// resolved path leaves the root, so an escape looks exactly like a missing file.
int openChecked(const std::string& path, const LookupInput& in, const std::string& rootReal) {
  std::string target = path;
  int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;  // O_NONBLOCK: a FIFO must not hang us
  if (!in.followSymlinks) {
    int err = realPath(path, target);
    if (err != 0) {
      return -err;
    }
    if (!isUnder(target, rootReal)) {
      return -ENOENT;
    }
    // The resolved path has no symlinks left; O_NOFOLLOW keeps the last component from
    // being swapped for one between realpath() and open().
    flags |= O_NOFOLLOW;
  }
  int fd = ::open(target.c_str(), flags);
  return fd >= 0 ? fd : -errno;
}

void takeStat(const struct stat& st, LookupOutput& out) noexcept {
  out.size = static_cast<uint64_t>(st.st_size);
  out.mtime = static_cast<int64_t>(st.st_mtim.tv_sec);
  out.mtimeNs = static_cast<int64_t>(st.st_mtim.tv_nsec);
  out.dev = static_cast<uint64_t>(st.st_dev);
  out.ino = static_cast<uint64_t>(st.st_ino);
}

/// With `out` holding the open file `path`: swaps in the best pre-compressed sibling the
/// client accepts (same symlink rules), and notes whether any sibling exists (Vary).
void findSibling(const std::string& path, const LookupInput& in, const std::string& rootReal,
                 LookupOutput& out) {
  if (!in.precompressed) {
    return;
  }
  bool tried[kCodingCount] = {};
  for (size_t i = 0; i < in.codings.count; ++i) {
    Coding coding = in.codings.order[i];
    tried[static_cast<size_t>(coding)] = true;
    int fd = openChecked(path + std::string(codingSuffix(coding)), in, rootReal);
    if (fd < 0) {
      continue;  // no such sibling (or a refused one): the next, or the file itself
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      continue;
    }
    ::close(out.fd);
    out.fd = fd;
    takeStat(st, out);
    out.coding = coding;
    out.hasVariants = true;
    return;
  }
  for (Coding coding : {Coding::Br, Coding::Gzip}) {
    struct stat st {};
    if (!tried[static_cast<size_t>(coding)] &&
        ::stat((path + std::string(codingSuffix(coding))).c_str(), &st) == 0 &&
        S_ISREG(st.st_mode)) {
      out.hasVariants = true;
      return;
    }
  }
}

/// Tries the index files of directory `dir`; fills `out`.
void lookupIndex(const std::string& dir, const LookupInput& in, const std::string& rootReal,
                 LookupOutput& out) {
  for (const auto& name : in.index) {
    if (name.empty() || name.front() == '.' || name.find('/') != std::string::npos ||
        name.find('\0') != std::string::npos) {
      continue;  // config allows any name without '/': never let ".." or dotfiles through
    }
    int fd = openChecked(std::string(dir).append("/").append(name), in, rootReal);
    if (fd < 0) {
      if (outcomeOf(-fd) == LookupOutcome::NotFound) {
        continue;
      }
      fail(out, -fd);
      return;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      fail(out, err);
      return;
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      continue;
    }
    out.outcome = LookupOutcome::File;
    out.fd = fd;
    takeStat(st, out);
    out.name = name;
    std::string path = dir;
    path += '/';
    path += name;
    findSibling(path, in, rootReal, out);
    return;
  }
  out.outcome = LookupOutcome::NotFound;
  out.error = ENOENT;
}

void lookup(const LookupInput& in, LookupOutput& out) {
  std::string rootReal = in.rootReal;
  if (!in.followSymlinks && rootReal.empty()) {
    int err = realPath(in.root, rootReal);
    if (err != 0) {
      fail(out, err);
      return;
    }
    out.rootReal = rootReal;
  }
  std::string path = in.followSymlinks ? in.root : rootReal;
  if (!in.relative.empty()) {
    if (path.empty() || path.back() != '/') {
      path.push_back('/');
    }
    path.append(in.relative);
  }
  int fd = openChecked(path, in, rootReal);
  if (fd < 0) {
    fail(out, -fd);
    return;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    fail(out, err);
    return;
  }
  if (S_ISREG(st.st_mode) && !in.trailingSlash) {
    out.outcome = LookupOutcome::File;
    out.fd = fd;
    takeStat(st, out);
    size_t slash = in.relative.rfind('/');
    out.name = slash == std::string::npos ? in.relative : in.relative.substr(slash + 1);
    findSibling(path, in, rootReal, out);
    return;
  }
  ::close(fd);
  if (!S_ISDIR(st.st_mode)) {
    out.outcome = LookupOutcome::NotFound;  // "file/", FIFOs, devices, sockets
    out.error = ENOENT;
    return;
  }
  if (!in.trailingSlash) {
    out.outcome = LookupOutcome::Redirect;
    return;
  }
  lookupIndex(path, in, rootReal, out);
}

}  // namespace

void lookupFile(const LookupInput& in, LookupOutput& out) noexcept {
  try {
    lookup(in, out);
  } catch (const std::bad_alloc&) {
    if (out.fd >= 0) {
      ::close(out.fd);
      out.fd = -1;
    }
    fail(out, ENOMEM);
  }
}

int readAndClose(int fd, const std::vector<BodyPart>& parts, const std::string& tail,
                 std::string& out) noexcept {
  int err = 0;
  try {
    uint64_t total = tail.size();
    for (const BodyPart& part : parts) {
      total += part.head.size() + part.length;
    }
    out.clear();
    out.reserve(total);
  } catch (const std::bad_alloc&) {
    err = ENOMEM;
  }
  for (size_t i = 0; err == 0 && i < parts.size(); ++i) {
    const BodyPart& part = parts[i];
    out.append(part.head);  // fits: reserved above
    size_t start = out.size();
    out.resize(start + part.length);
    uint64_t done = 0;
    while (err == 0 && done < part.length) {
      ssize_t n = ::pread(fd, out.data() + start + done, part.length - done,
                          static_cast<off_t>(part.offset + done));
      if (n < 0) {
        if (errno != EINTR) {
          err = errno;
        }
      } else if (n == 0) {
        err = EIO;  // the file shrank since fstat: the promised length cannot be sent
      } else {
        done += static_cast<uint64_t>(n);
      }
    }
  }
  if (err == 0) {
    out.append(tail);
  }
  ::close(fd);
  return err;
}

}  // namespace doorman::statics::detail
