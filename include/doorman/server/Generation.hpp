#pragma once
// One configuration in force: the config, its upstream pools and its router. A reload
// builds a new Generation; new requests use the newest one while every request already
// started keeps the generation it began with (shared ownership), so queued and in-flight
// requests finish on the pools and routes they were routed with. An upstream whose
// configuration did not change keeps its pool object (same slots, queue and idle
// connections) across generations; a changed one gets a new pool, and the old pool lives
// until its last request is done.
//
// The last reference may drop inside a callback of one of the generation's own pools, so
// a Generation is never destroyed in place: its deleter hands it to Loop::deferDelete.

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "doorman/config/Config.hpp"
#include "doorman/core/Body.hpp"
#include "doorman/core/MemoryBudget.hpp"
#include "doorman/server/Router.hpp"
#include "doorman/upstream/ServerResolver.hpp"
#include "doorman/upstream/UpstreamPool.hpp"
#include "doorman/uv/Loop.hpp"

namespace doorman::server {

struct Generation final : uv::Deletable {
  uint64_t number = 0;  ///< 1 for the configuration doorman started with
  config::Config config;
  std::map<std::string, std::shared_ptr<upstream::UpstreamPool>> pools;
  std::unique_ptr<Router> router;
};

using GenerationPtr = std::shared_ptr<Generation>;

/// Builds pools (reusing `previous`'s pool for an upstream whose config and resolved
/// addresses are unchanged) and the router. `servers`: every upstream's resolved servers
/// (resolveServersNow at start, ServerResolver on reload); nullptr with `error` set when
/// one is missing.
GenerationPtr buildGeneration(uv::Loop& loop, config::Config config, core::BufferPolicy* buffers,
                              const Generation* previous, uint64_t number,
                              const upstream::ResolvedServers& servers, std::string& error);

}  // namespace doorman::server
