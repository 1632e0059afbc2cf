#include "doorman/ops/Metrics.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace doorman::ops {

void Histogram::observeMicros(int64_t micros) {
  if (micros < 0) {
    micros = 0;
  }
  double seconds = static_cast<double>(micros) / 1e6;
  for (size_t i = 0; i < kBounds.size(); ++i) {
    if (seconds <= kBounds[i]) {
      ++buckets_[i];
      break;
    }
  }
  ++count_;
  sumMicros_ += static_cast<uint64_t>(micros);
}

uint64_t Histogram::cumulative(size_t i) const noexcept {
  uint64_t n = 0;
  for (size_t k = 0; k <= i && k < buckets_.size(); ++k) {
    n += buckets_[k];
  }
  return n;
}

std::string statusClass(int status) {
  if (status < 100 || status > 599) {
    return "other";
  }
  return std::to_string(status / 100) + "xx";
}

void Metrics::recordRequest(const std::string& route, int status, int64_t totalUs) {
  ++requests[{route, statusClass(status)}];
  if (totalUs >= 0) {
    requestDuration.observeMicros(totalUs);
  }
}

namespace {

void appendLabelValue(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

std::string formatDouble(double v) {
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  // The shortest form that reads back as the same double: 0.0025, not 0.0025000000000000001.
  char buf[40];
  for (int precision = 15; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) {
      break;
    }
  }
  return buf;
}

}  // namespace

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  for (char c : help) {
    out_ += c == '\n' ? ' ' : c;
  }
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void PrometheusText::writeName(std::string_view name, const Labels& labels, const char* extraKey,
                               std::string_view extraValue) {
  out_ += name;
  if (labels.empty() && extraKey == nullptr) {
    return;
  }
  out_ += '{';
  bool first = true;
  for (const auto& [key, value] : labels) {
    if (!first) {
      out_ += ',';
    }
    first = false;
    out_ += key;
    out_ += "=\"";
    appendLabelValue(out_, value);
    out_ += '"';
  }
  if (extraKey != nullptr) {
    if (!first) {
      out_ += ',';
    }
    out_ += extraKey;
    out_ += "=\"";
    appendLabelValue(out_, extraValue);
    out_ += '"';
  }
  out_ += '}';
}

void PrometheusText::sample(std::string_view name, const Labels& labels, double value) {
  writeName(name, labels);
  out_ += ' ';
  out_ += formatDouble(value);
  out_ += '\n';
}

void PrometheusText::sample(std::string_view name, const Labels& labels, uint64_t value) {
  writeName(name, labels);
  out_ += ' ';
  out_ += std::to_string(value);
  out_ += '\n';
}

void PrometheusText::histogram(std::string_view name, const Labels& labels, const Histogram& h) {
  std::string bucket = std::string(name) + "_bucket";
  for (size_t i = 0; i < Histogram::kBounds.size(); ++i) {
    writeName(bucket, labels, "le", formatDouble(Histogram::kBounds[i]));
    out_ += ' ';
    out_ += std::to_string(h.cumulative(i));
    out_ += '\n';
  }
  writeName(bucket, labels, "le", "+Inf");
  out_ += ' ';
  out_ += std::to_string(h.count());
  out_ += '\n';
  sample(std::string(name) + "_sum", labels, h.sumSeconds());
  sample(std::string(name) + "_count", labels, h.count());
}

}  // namespace doorman::ops
