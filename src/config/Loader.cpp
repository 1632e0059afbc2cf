// Entry points: text or file in, Config and every error out. yaml-cpp reports syntax
// errors by throwing; nothing thrown gets past this file.

#include "doorman/config/Loader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <tuple>

#include "Documents.hpp"
#include "Reader.hpp"
#include "Sections.hpp"

namespace doorman::config {
namespace {

using detail::Context;
using detail::Value;

void readDocument(Context& ctx, const YAML::Node& root, Config& config) {
  // An empty file has no root node to point at: use its first line.
  const Value document{root, root.IsNull() ? YAML::Mark() : root.Mark(), ""};
  const bool isMap = detail::readMap(
      ctx, document,
      {
          {"listen", [&](const Value& v) { detail::readListen(ctx, v, config.listen); }},
          {"admin", [&](const Value& v) { detail::readAdmin(ctx, v, config.adminListen); }},
          {"limits", [&](const Value& v) { detail::readLimits(ctx, v, config.limits); }},
          {"timeouts", [&](const Value& v) { detail::readTimeouts(ctx, v, config.timeouts); }},
          {"buffering", [&](const Value& v) { detail::readBuffering(ctx, v, config.buffering); }},
          {"upstreams", [&](const Value& v) { detail::readUpstreams(ctx, v, config.upstreams); }},
          {"routes", [&](const Value& v) { detail::readRoutes(ctx, v, config.routes); }},
          {"static_cache",
           [&](const Value& v) { detail::readStaticCache(ctx, v, config.staticCache); }},
          {"access_log", [&](const Value& v) { detail::readAccessLog(ctx, v, config.accessLog); }},
          {"log", [&](const Value& v) { detail::readErrorLog(ctx, v, config.log); }},
          {"user", [&](const Value& v) { detail::readString(ctx, v, config.user); }},
          {"group", [&](const Value& v) { detail::readString(ctx, v, config.group); }},
      });
  // A document that is not a map of settings has nothing to cross-check.
  if (isMap) detail::validate(ctx, config);
}

LoadResult loadDocuments(const std::string& yaml, const std::string& name,
                         const std::string& baseDir) {
  LoadResult result;
  result.config.sourcePath = name;
  Context ctx(name, baseDir);
  // Not YAML::LoadAll(): see Documents.cpp.
  const detail::DocumentScan documents = detail::scanDocuments(yaml);
  if (documents.starts.size() > 1) {
    ctx.error(documents.starts[1], "",
              "expected one YAML document, found " + std::to_string(documents.starts.size()) +
                  " (remove the '---' separators)");
  }
  readDocument(ctx, documents.starts.empty() ? YAML::Node() : YAML::Load(yaml), result.config);
  result.errors = ctx.takeErrors();
  // Report in file order: cross-checks run last but may point anywhere.
  std::stable_sort(result.errors.begin(), result.errors.end(),
                   [](const ConfigError& a, const ConfigError& b) {
                     return std::tie(a.line, a.column) < std::tie(b.line, b.column);
                   });
  return result;
}

LoadResult failure(const std::string& file, int line, int column, std::string message) {
  LoadResult result;
  result.config.sourcePath = file;
  result.errors.push_back(ConfigError{file, line, column, "", std::move(message)});
  return result;
}

LoadResult loadText(const std::string& yaml, const std::string& name, const std::string& baseDir) {
  try {
    return loadDocuments(yaml, name, baseDir);
  } catch (const YAML::Exception& e) {
    // Syntax errors: the mark is where the parser gave up.
    const bool known = !e.mark.is_null();
    return failure(name, known ? e.mark.line + 1 : 0, known ? e.mark.column + 1 : 0,
                   "invalid YAML: " + e.msg);
  } catch (const std::exception& e) {
    return failure(name, 0, 0, std::string("cannot load: ") + e.what());
  } catch (...) {
    return failure(name, 0, 0, "cannot load: unknown error");
  }
}

/// The absolute directory holding `path`, against which relative paths in it are resolved.
std::string directoryOf(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  return ec ? std::string() : absolute.parent_path().string();
}

}  // namespace

std::string ConfigError::toString() const {
  std::string out = file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
  // File-level errors (unreadable file, YAML syntax) have no key to name.
  if (!keyPath.empty()) out += keyPath + ": ";
  out += message;
  return out;
}

LoadResult loadConfigString(const std::string& yaml, const std::string& name) {
  return loadText(yaml, name, "");
}

LoadResult loadConfigFile(const std::string& path) {
  try {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                         &std::fclose);
    if (!file) return failure(path, 0, 0, std::string("cannot read file: ") + std::strerror(errno));
    std::string text;
    char buffer[16 * 1024];
    size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) text.append(buffer, n);
    // fopen succeeds on a directory; the read is what fails (EISDIR).
    if (std::ferror(file.get())) {
      return failure(path, 0, 0, std::string("cannot read file: ") + std::strerror(errno));
    }
    return loadText(text, path, directoryOf(path));
  } catch (...) {
    return failure(path, 0, 0, "cannot read file: out of memory");
  }
}

}  // namespace doorman::config
