// Construction, recovery and the dispatch table: the table of contents of
// the master's protocol.

#include <arpa/inet.h>
#include <cmath>
#include <unistd.h>

#include <fmt/format.h>

#include "agora/common/check.hpp"
#include "agora/common/id.hpp"
#include "agora/master/master.hpp"
#include "process.hpp"

namespace agora::master {

namespace {

std::string machineHostname() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof(buffer) - 1) != 0) return "localhost";
  return buffer;
}

}  // namespace

// --- Master (the public facade) -----------------------------------------------

Master::Master(MasterOptions options, Clock& clock, Messenger& messenger)
    : ownedRegistrar_(std::make_unique<Registrar>(options.workDir + "/registry.db")) {
  auto allocatorOpts = allocatorOptions(options);
  AGORA_CHECK(allocatorOpts.ok(), "checkMasterOptions() not called");
  ownedAllocator_ = allocator::makeHierarchicalAllocator(*allocatorOpts);
  process_ = std::make_unique<MasterProcess>(std::move(options), clock, messenger, *ownedRegistrar_,
                                             *ownedAllocator_);
}

Master::Master(MasterOptions options, Clock& clock, Messenger& messenger, Registrar& registrar,
               allocator::Allocator& allocator)
    : process_(std::make_unique<MasterProcess>(std::move(options), clock, messenger, registrar, allocator)) {}

Master::~Master() = default;

Status Master::recover() { return process_->recover(); }
void Master::receive(const PeerId& from, internal::Envelope&& envelope) { process_->receive(from, std::move(envelope)); }
void Master::disconnected(const PeerId& peer) { process_->disconnected(peer); }
v1::MasterInfo Master::masterInfo() const { return process_->masterInfo(); }
nlohmann::json Master::health() const { return process_->health(); }
nlohmann::json Master::stateJson() const { return process_->stateJson(); }

std::optional<std::string> Master::agentHttpAddress(const std::string& agentId) const {
  return process_->agentHttpAddress(agentId);
}
std::map<std::string, double> Master::metrics() const { return process_->metrics(); }
nlohmann::json Master::stateSummaryJson() const { return process_->stateSummaryJson(); }
nlohmann::json Master::rolesJson() const { return process_->rolesJson(); }
Result<nlohmann::json> Master::explain(const std::string& frameworkId) { return process_->explainJson(frameworkId); }
std::vector<v1::WeightInfo> Master::weights() const { return process_->weightInfos(); }
v1::QuotaStatus Master::quota() const { return process_->quotaStatus(); }
v1::master::Response::GetAgents Master::getAgents() const { return process_->getAgents(); }
v1::master::Response::GetFrameworks Master::getFrameworks() const { return process_->getFrameworks(); }
v1::master::Response::GetTasks Master::getTasks() const { return process_->getTasks(); }
v1::master::Response::GetRoles Master::getRoles() const { return process_->getRoles(); }
Status Master::reserveResources(const v1::master::Call::ReserveResources& call) {
  return process_->operatorReserve(call);
}
Status Master::unreserveResources(const v1::master::Call::UnreserveResources& call) {
  return process_->operatorUnreserve(call);
}
Status Master::updateWeights(const google::protobuf::RepeatedPtrField<v1::WeightInfo>& weights) {
  return process_->updateWeights(weights);
}
Status Master::updateQuota(const v1::master::Call::UpdateQuota& update) { return process_->updateQuota(update); }
Status Master::teardown(const std::string& frameworkId) { return process_->operatorTeardown(frameworkId); }
Status Master::markAgentGone(const std::string& agentId) { return process_->markAgentGone(agentId); }
Status Master::deactivateAgent(const std::string& agentId) { return process_->setAgentDeactivated(agentId, true); }
Status Master::reactivateAgent(const std::string& agentId) { return process_->setAgentDeactivated(agentId, false); }
v1::master::Response::GetExecutors Master::getExecutors() const { return process_->getExecutors(); }
Status Master::killTask(const std::string& frameworkId, const std::string& taskId) {
  return process_->operatorKill(frameworkId, taskId);
}

// --- MasterProcess --------------------------------------------------------------

MasterProcess::MasterProcess(MasterOptions options, Clock& clock, Messenger& messenger, Registrar& registrar,
                             allocator::Allocator& allocator)
    : options_(std::move(options)),
      clock_(clock),
      messenger_(messenger),
      registrar_(registrar),
      allocator_(allocator),
      log_(logger("master")) {
  std::string id = options_.masterId.empty() ? newUuid() : options_.masterId;
  std::string hostname = options_.hostname.empty() ? machineHostname() : options_.hostname;
  std::string ip = options_.ip.empty() || options_.ip == "0.0.0.0" ? "127.0.0.1" : options_.ip;
  info_.set_id(id);
  in_addr packed{};
  info_.set_ip(inet_pton(AF_INET, ip.c_str(), &packed) == 1 ? packed.s_addr : 0);
  info_.set_port(static_cast<uint32_t>(options_.port));
  info_.set_hostname(hostname);
  info_.set_version(AGORA_VERSION);
  info_.set_pid("master@" + ip + ":" + std::to_string(options_.port));
  info_.mutable_address()->set_hostname(hostname);
  info_.mutable_address()->set_ip(ip);
  info_.mutable_address()->set_port(static_cast<int32_t>(options_.port));
  info_.set_zmq_endpoint(fmt::format("tcp://{}:{}", options_.hostname.empty() ? ip : hostname, options_.zmqPort));
  startTime_ = clock_.wallNow();
  registrar_.setTimeSource([&clock] { return clock.now(); });
}

MasterProcess::~MasterProcess() {
  // Timers capture `this`: cancel every one we may still own.
  clock_.cancel(allocationTimer_);
  clock_.cancel(reregisterTimer_);
  for (auto& [id, agent] : agents_) clock_.cancel(agent->pingTimer);
  for (auto& [id, framework] : frameworks_) {
    clock_.cancel(framework->heartbeatTimer);
    clock_.cancel(framework->failoverTimer);
  }
  for (auto& [id, offer] : offers_) clock_.cancel(offer.timeoutTimer);
}

Status MasterProcess::recover() {
  AGORA_CHECK(!recovered_, "recover() called twice");
  if (auto weights = parseWeights(options_.weights); weights.ok()) {
    allocator_.updateWeights(*weights);
    weights_ = *weights;
  } else {
    return weights.error().withContext("Invalid flag --weights");
  }

  AGORA_ASSIGN_OR_RETURN(internal::Registry registry, registrar_.recover(info_));
  // The operator's weights and quotas from the registry win over --weights.
  std::map<std::string, double> weights;
  for (const auto& weight : registry.weights()) {
    if (!std::isfinite(weight.weight()) || weight.weight() <= 0) {
      return Status::Corruption("Registry '" + registrar_.path() + "': invalid weight of role '" + weight.role() + "'");
    }
    weights[weight.role()] = weight.weight();
    weights_[weight.role()] = weight.weight();
  }
  if (!weights.empty()) allocator_.updateWeights(weights);
  for (const auto& config : registry.quota_configs()) {
    quotas_[config.role()] = config;
    allocator_.updateQuota(config.role(), toAllocatorQuota(config));
  }
  for (const auto& agent : registry.agents()) {
    recoveredAgents_[agent.agent_info().id().value()] = agent.agent_info();
    if (agent.deactivated()) deactivatedAgents_.insert(agent.agent_info().id().value());
  }
  for (const auto& agent : registry.unreachable()) {
    unreachable_[agent.id().value()] = UnreachableEntry{agent.id(), fromTimeInfo(agent.timestamp())};
    if (agent.deactivated()) deactivatedAgents_.insert(agent.id().value());
  }
  for (const auto& agent : registry.gone()) gone_[agent.id().value()] = fromTimeInfo(agent.timestamp());

  WallTime wallNow = clock_.wallNow();
  for (const auto& record : registry.frameworks()) {
    if (!validateSubscribeInfo(record.framework_info()).ok()) {
      log_->warn("Ignoring invalid framework {} in the registry", quoteForLog(record.framework_info().id().value()));
      continue;
    }
    FrameworkEntry& framework = addRecoveredFramework(record.framework_info());
    if (record.has_registered_time()) framework.registeredTime = fromTimeInfo(record.registered_time());
    // A framework that was connected lost its master: its failover timeout
    // starts now. One that was already disconnected keeps its deadline.
    Duration left = failoverTimeoutOf(framework.info);
    if (record.has_failover_deadline()) {
      left = std::min(left, std::chrono::duration_cast<Duration>(fromTimeInfo(record.failover_deadline()) - wallNow));
    }
    startFailoverTimer(framework, std::max(left, Duration::zero()));
  }

  if (!recoveredAgents_.empty()) {
    reregisterTimer_ = clock_.schedule(options_.agentReregisterTimeout, [this] { recoveredAgentTimeout(); });
  }
  allocationTimer_ = clock_.schedule(options_.allocationInterval, [this] { batchAllocate(); });
  recovered_ = true;
  log_->info("Master {} recovered from '{}': {} agents to reregister, {} unreachable, {} gone, {} frameworks",
             info_.id(), registrar_.path(), recoveredAgents_.size(), unreachable_.size(), gone_.size(),
             frameworks_.size());
  return Status::OK();
}

// The dispatch table. Every message the master accepts is one line here;
// anything else (messages the master sends, executor traffic) is dropped.
void MasterProcess::receive(const PeerId& from, internal::Envelope&& envelope) {
  using E = internal::Envelope;
  if (!recovered_) return drop(from, envelopeType(envelope), "master not recovered yet");
  if (envelope.protocol_version() != internal::PROTOCOL_VERSION_CURRENT) {
    return drop(from, envelopeType(envelope), "unsupported protocol version");
  }
  switch (envelope.message_case()) {
    // Framework -> master.
    case E::kSchedulerCall:           return schedulerCall(from, std::move(*envelope.mutable_scheduler_call()));
    // Agent -> master.
    case E::kRegisterAgent:           return registerAgent(from, envelope.register_agent());
    case E::kReregisterAgent:         return reregisterAgent(from, envelope.reregister_agent());
    case E::kUnregisterAgent:         return unregisterAgent(from, envelope.unregister_agent());
    case E::kPong:                    return pong(from);
    case E::kStatusUpdate:            return statusUpdate(from, envelope.status_update());
    case E::kExecutorToFramework:     return executorMessage(from, envelope.executor_to_framework());
    case E::kExitedExecutor:          return exitedExecutor(from, envelope.exited_executor());
    default:                          return drop(from, envelopeType(envelope), "not a message the master receives");
  }
}

// The scheduler API: SUBSCRIBE from any peer; everything else only from the
// peer subscribed for `framework_id`.
void MasterProcess::schedulerCall(const PeerId& from, Call&& call) {
  std::string type = "scheduler_call." + Call::Type_Name(call.type());
  if (call.type() == Call::SUBSCRIBE) {
    if (!call.has_subscribe()) return drop(from, type, "no subscribe body");
    subscribe(from, call);
    if (auto it = frameworkByPeer_.find(from); it != frameworkByPeer_.end()) {
      if (auto framework = frameworks_.find(it->second); framework != frameworks_.end()) {
        countFrameworkCall(*framework->second, Call::SUBSCRIBE);
      }
    }
    return;
  }
  if (!call.has_framework_id()) return drop(from, type, "no framework_id");
  auto it = frameworks_.find(call.framework_id().value());
  if (it == frameworks_.end()) return drop(from, type, "unknown framework");
  FrameworkEntry& framework = *it->second;
  if (!framework.connected && !framework.lastPeer.empty() && framework.lastPeer == from) {
    reconnectFramework(framework, from);
  }
  if (!framework.connected || framework.peer != from) return drop(from, type, "framework not subscribed from this peer");
  countFrameworkCall(framework, call.type());

  switch (call.type()) {
    case Call::TEARDOWN:     return teardown(framework);
    case Call::ACCEPT:       return call.has_accept() ? accept(framework, call.accept()) : drop(from, type, "no body");
    case Call::DECLINE:      return call.has_decline() ? decline(framework, call.decline()) : drop(from, type, "no body");
    case Call::REVIVE:       return revive(framework, call.revive());
    case Call::SUPPRESS:     return suppress(framework, call.suppress());
    case Call::KILL:         return call.has_kill() ? kill(framework, call.kill()) : drop(from, type, "no body");
    case Call::SHUTDOWN:     return call.has_shutdown() ? shutdownExecutor(framework, call.shutdown()) : drop(from, type, "no body");
    case Call::ACKNOWLEDGE:  return call.has_acknowledge() ? acknowledge(framework, call.acknowledge()) : drop(from, type, "no body");
    case Call::RECONCILE:    return reconcile(framework, call.reconcile());
    case Call::MESSAGE:      return call.has_message() ? frameworkMessage(framework, call.message()) : drop(from, type, "no body");
    case Call::REQUEST:      return;  // A hint; ignored by the allocator (as Mesos).
    default:                 return drop(from, type, "unsupported call");
  }
}

void MasterProcess::drop(const PeerId& from, std::string_view type, std::string_view why) {
  counters_["master/dropped_messages"] += 1;
  constexpr size_t kMaxWarnedPeers = 10000;
  if (warnedPeers_.size() < kMaxWarnedPeers && warnedPeers_.insert(from).second) {
    log_->warn("Dropping '{}' from {}: {} (further drops from this peer are not logged)", type,
               quoteForLog(from), why);
  } else {
    log_->debug("Dropping '{}' from {}: {}", type, quoteForLog(from), why);
  }
}

void MasterProcess::send(const PeerId& to, internal::Envelope envelope) {
  envelope.set_protocol_version(internal::PROTOCOL_VERSION_CURRENT);
  messenger_.send(to, std::move(envelope));
}

void MasterProcess::sendEvent(FrameworkEntry& framework, Event event) {
  if (!framework.connected) return;
  countFrameworkEvent(framework, event.type());
  internal::Envelope envelope;
  *envelope.mutable_scheduler_event() = std::move(event);
  send(framework.peer, std::move(envelope));
}

void MasterProcess::registryFailed(const Status& status) {
  log_->critical("Registry write failed, stopping: {}", status.toString());
  std::abort();
}

void MasterProcess::disconnected(const PeerId& peer) {
  if (auto it = frameworkByPeer_.find(peer); it != frameworkByPeer_.end()) {
    auto framework = frameworks_.find(it->second);
    if (framework != frameworks_.end()) disconnectFramework(*framework->second);
  }
}

}  // namespace agora::master
