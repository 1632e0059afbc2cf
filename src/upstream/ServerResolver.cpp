#include "doorman/upstream/ServerResolver.hpp"

#include <uv.h>

namespace doorman::upstream {

std::string describeResolveFailure(const std::string& upstream, const config::Address& address,
                                   const std::string& reason) {
  return "upstream '" + upstream + "': server " + address.text + ": " + reason;
}

std::string resolveServersNow(const std::map<std::string, config::Upstream>& upstreams,
                              ResolvedServers& out) {
  out.clear();
  for (const auto& [name, upstream] : upstreams) {
    auto& endpoints = out[name];
    for (const auto& server : upstream.servers) {
      endpoints.emplace_back();
      std::string error = Endpoint::resolve(server.address, endpoints.back());
      if (!error.empty()) {
        return describeResolveFailure(name, server.address, error);
      }
    }
  }
  return {};
}

/// Shared by the resolver and every lookup in flight: a lookup's callback may come after
/// the resolver is gone (cancelled), and then only touches the batch.
struct ServerResolver::Batch {
  ResolvedServers servers;
  std::vector<std::pair<std::string, config::Address>> addresses;  ///< per lookup
  std::string error;
  size_t pending = 0;
  bool cancelled = false;
  Done done;
  std::vector<uv_getaddrinfo_t*> inFlight;

  void finish() {
    if (cancelled) {
      return;
    }
    cancelled = true;  // reported once
    Done report = std::move(done);
    report(error, error.empty() ? std::move(servers) : ResolvedServers{});
  }
};

namespace {

struct Lookup {
  uv_getaddrinfo_t req{};
  std::shared_ptr<void> keep;  ///< the batch
  size_t index = 0;            ///< into Batch::addresses
  Endpoint* slot = nullptr;    ///< where the answer goes
};

}  // namespace

ServerResolver::ServerResolver(uv::Loop& loop) : loop_(loop), timer_(loop, *this) {}

ServerResolver::~ServerResolver() {
  if (batch_ && !batch_->cancelled) {
    batch_->cancelled = true;
    for (uv_getaddrinfo_t* req : batch_->inFlight) {
      // A lookup not yet running is cancelled (its callback comes with
      // UV_EAI_CANCELED); one running finishes on its thread and is dropped.
      uv_cancel(reinterpret_cast<uv_req_t*>(req));
    }
  }
}

void ServerResolver::start(const std::map<std::string, config::Upstream>& upstreams, Done done) {
  batch_ = std::make_shared<Batch>();
  Batch& batch = *batch_;
  batch.done = std::move(done);
  for (const auto& [name, upstream] : upstreams) {
    auto& endpoints = batch.servers[name];
    for (const auto& server : upstream.servers) {
      endpoints.emplace_back();
      if (server.address.kind == config::Address::Kind::Unix) {
        Endpoint::fromLookup(server.address, 0, nullptr, endpoints.back());
      } else {
        batch.addresses.emplace_back(name, server.address);
      }
    }
  }
  // Endpoint slots of TCP servers, in the order of `addresses`.
  std::vector<Endpoint*> slots;
  for (auto& [name, endpoints] : batch.servers) {
    const auto& servers = upstreams.at(name).servers;
    for (size_t i = 0; i < servers.size(); ++i) {
      if (servers[i].address.kind != config::Address::Kind::Unix) slots.push_back(&endpoints[i]);
    }
  }
  if (batch.addresses.empty()) {
    timer_.start(0);
    return;
  }
  const addrinfo hints = Endpoint::lookupHints();
  for (size_t i = 0; i < batch.addresses.size(); ++i) {
    auto* lookup = new Lookup;
    lookup->keep = batch_;
    lookup->index = i;
    lookup->slot = slots[i];
    lookup->req.data = lookup;
    const config::Address& address = batch.addresses[i].second;
    std::string port = std::to_string(address.port);
    auto onResolved = [](uv_getaddrinfo_t* req, int status, addrinfo* result) {
      auto* entry = static_cast<Lookup*>(req->data);
      auto shared = std::static_pointer_cast<Batch>(entry->keep);
      std::erase(shared->inFlight, req);
      --shared->pending;
      if (!shared->cancelled && shared->error.empty()) {
        const auto& [upstream, where] = shared->addresses[entry->index];
        // libuv maps getaddrinfo's codes to UV_EAI_*; uv_strerror words them as gai does.
        std::string why = status != 0
                              ? "cannot resolve '" + where.host + "': " + uv_strerror(status)
                              : Endpoint::fromLookup(where, 0, result, *entry->slot);
        if (!why.empty()) {
          shared->error = describeResolveFailure(upstream, where, why);
        }
      }
      uv_freeaddrinfo(result);
      delete entry;
      if (shared->pending == 0 || !shared->error.empty()) {
        shared->finish();  // the first failure decides; the other lookups are ignored
      }
    };
    int rc = uv_getaddrinfo(loop_.raw(), &lookup->req, onResolved, address.host.c_str(),
                            port.c_str(), &hints);
    if (rc != 0) {
      delete lookup;
      batch.error = describeResolveFailure(batch.addresses[i].first, address,
                                           std::string("cannot resolve: ") + uv_strerror(rc));
      break;
    }
    ++batch.pending;
    batch.inFlight.push_back(&lookup->req);
  }
  if (!batch.error.empty() && batch.pending == 0) {
    timer_.start(0);  // reported from the loop, not from inside start()
  }
}

void ServerResolver::onTimer() {
  if (batch_) {
    batch_->finish();
  }
}

}  // namespace doorman::upstream
