#pragma once
// Private to the config module: a first pass over the YAML stream that finds its documents
// without building them.

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

namespace doorman::config::detail {

struct DocumentScan {
  std::vector<YAML::Mark> starts;  ///< where each document begins
};

/// Finds the documents of `yaml`. Throws YAML::ParserException on a syntax error, including
/// the one yaml-cpp 0.7 itself would loop on forever (see Documents.cpp).
DocumentScan scanDocuments(const std::string& yaml);

}  // namespace doorman::config::detail
