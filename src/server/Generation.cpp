#include "doorman/server/Generation.hpp"

namespace doorman::server {

GenerationPtr buildGeneration(uv::Loop& loop, config::Config config, core::BufferPolicy* buffers,
                              const Generation* previous, uint64_t number,
                              const upstream::ResolvedServers& servers, std::string& error) {
  GenerationPtr gen(new Generation, [&loop](Generation* g) {
    loop.deferDelete(std::unique_ptr<uv::Deletable>(g));
  });
  gen->number = number;
  gen->config = std::move(config);
  const config::Config& cfg = gen->config;
  std::map<std::string, upstream::UpstreamPool*> raw;
  for (const auto& [name, upstream] : cfg.upstreams) {
    auto resolved = servers.find(name);
    if (resolved == servers.end() || resolved->second.size() != upstream.servers.size()) {
      error = "upstream '" + name + "': servers not resolved";
      return nullptr;
    }
    std::shared_ptr<upstream::UpstreamPool> pool;
    if (previous != nullptr) {
      auto old = previous->pools.find(name);
      auto oldConfig = previous->config.upstreams.find(name);
      // A name that now resolves elsewhere gets a new pool, like a changed setting.
      if (old != previous->pools.end() && oldConfig != previous->config.upstreams.end() &&
          oldConfig->second == upstream &&
          previous->config.buffering.maxResponseBytes == cfg.buffering.maxResponseBytes &&
          old->second->servesEndpoints(resolved->second)) {
        pool = old->second;
      }
    }
    if (!pool) {
      pool = upstream::UpstreamPool::create(loop, upstream, resolved->second, buffers,
                                            cfg.buffering.maxResponseBytes);
    }
    raw[name] = pool.get();
    gen->pools[name] = std::move(pool);
  }
  gen->router = std::make_unique<Router>(cfg.routes, raw, cfg.upstreams);
  return gen;
}

}  // namespace doorman::server
