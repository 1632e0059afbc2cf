// yaml-cpp 0.7 neither consumes nor reports a stray ',' where a document should start
// (",listen: x"): each HandleNextDocument() then yields one more empty document at the same
// place, so YAML::LoadAll() allocates until the process dies and YAML::Load() silently
// returns an empty document. This pass walks the documents with a handler that builds
// nothing and turns "a document starts where the previous one started" into a syntax error.

#include "Documents.hpp"

#include <yaml-cpp/eventhandler.h>

#include <optional>
#include <sstream>

namespace doorman::config::detail {
namespace {

/// Remembers where each document starts and where its first node is.
class DocumentMarks : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;
  std::optional<YAML::Mark> firstNode;  ///< of the current document

  void OnDocumentStart(const YAML::Mark& mark) override {
    starts.push_back(mark);
    firstNode.reset();
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    node(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    node(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    node(mark);
  }
  void OnMapEnd() override {}

 private:
  void node(const YAML::Mark& mark) {
    if (!firstNode) firstNode = mark;
  }
};

}  // namespace

DocumentScan scanDocuments(const std::string& yaml) {
  std::istringstream stream(yaml);
  YAML::Parser parser(stream);
  DocumentMarks marks;
  while (parser.HandleNextDocument(marks)) {
    const size_t n = marks.starts.size();
    if (n >= 2 && marks.starts[n - 1].pos == marks.starts[n - 2].pos) {
      // No progress: the token at the start of this document is one nothing accepts.
      const YAML::Mark at = marks.firstNode.value_or(marks.starts[n - 1]);
      const auto pos = static_cast<size_t>(at.pos);
      const std::string token = pos < yaml.size() ? std::string(1, yaml[pos]) : "end of file";
      throw YAML::ParserException(at, "unexpected '" + token + "'");
    }
  }
  return DocumentScan{std::move(marks.starts)};
}

}  // namespace doorman::config::detail
