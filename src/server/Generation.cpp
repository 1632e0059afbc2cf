#include "doorman/server/Generation.hpp"

namespace doorman::server {

GenerationPtr buildGeneration(uv::Loop& loop, config::Config config, core::BufferPolicy* buffers,
                              const Generation* previous, uint64_t number, std::string& error) {
  GenerationPtr gen(new Generation, [&loop](Generation* g) {
    loop.deferDelete(std::unique_ptr<uv::Deletable>(g));
  });
  gen->number = number;
  gen->config = std::move(config);
  const config::Config& cfg = gen->config;
  std::map<std::string, upstream::UpstreamPool*> raw;
  for (const auto& [name, upstream] : cfg.upstreams) {
    std::shared_ptr<upstream::UpstreamPool> pool;
    if (previous != nullptr) {
      auto old = previous->pools.find(name);
      auto oldConfig = previous->config.upstreams.find(name);
      if (old != previous->pools.end() && oldConfig != previous->config.upstreams.end() &&
          oldConfig->second == upstream &&
          previous->config.buffering.maxResponseBytes == cfg.buffering.maxResponseBytes) {
        pool = old->second;
      }
    }
    if (!pool) {
      pool = upstream::UpstreamPool::create(loop, upstream, buffers, cfg.buffering.maxResponseBytes,
                                            error);
      if (!pool) {
        return nullptr;
      }
    }
    raw[name] = pool.get();
    gen->pools[name] = std::move(pool);
  }
  gen->router = std::make_unique<Router>(cfg.routes, raw, cfg.upstreams);
  return gen;
}

}  // namespace doorman::server
