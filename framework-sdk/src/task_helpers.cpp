#include "agora/task_helpers.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "agora/common/id.hpp"

namespace agora::sdk {

// --- TaskBuilder ------------------------------------------------------------

TaskBuilder::TaskBuilder(std::string taskId) {
  task_.set_name(taskId);
  task_.mutable_task_id()->set_value(std::move(taskId));
}

TaskBuilder& TaskBuilder::name(std::string name) {
  task_.set_name(std::move(name));
  return *this;
}

TaskBuilder& TaskBuilder::agent(const v1::AgentID& agentId) {
  *task_.mutable_agent_id() = agentId;
  return *this;
}

TaskBuilder& TaskBuilder::shell(std::string command) {
  v1::CommandInfo* info = task_.mutable_command();
  info->set_shell(true);
  info->set_value(std::move(command));
  info->clear_arguments();
  return *this;
}

TaskBuilder& TaskBuilder::exec(std::string path, std::vector<std::string> argv) {
  v1::CommandInfo* info = task_.mutable_command();
  info->set_shell(false);
  info->set_value(std::move(path));
  info->clear_arguments();
  for (std::string& arg : argv) info->add_arguments(std::move(arg));
  return *this;
}

TaskBuilder& TaskBuilder::env(std::string name, std::string value) {
  v1::Environment::Variable* variable = task_.mutable_command()->mutable_environment()->add_variables();
  variable->set_name(std::move(name));
  variable->set_type(v1::Environment::Variable::VALUE);
  variable->set_value(std::move(value));
  return *this;
}

TaskBuilder& TaskBuilder::user(std::string user) {
  task_.mutable_command()->set_user(std::move(user));
  return *this;
}

TaskBuilder& TaskBuilder::resources(const Resources& resources) {
  task_.clear_resources();
  resources.toProto(task_.mutable_resources());
  return *this;
}

TaskBuilder& TaskBuilder::resources(const google::protobuf::RepeatedPtrField<v1::Resource>& resources) {
  *task_.mutable_resources() = resources;
  return *this;
}

TaskBuilder& TaskBuilder::killGracePeriod(Duration grace) {
  task_.mutable_kill_policy()->mutable_grace_period()->set_nanoseconds(grace.count());
  return *this;
}

TaskBuilder& TaskBuilder::maxCompletionTime(Duration limit) {
  task_.mutable_max_completion_time()->set_nanoseconds(limit.count());
  return *this;
}

TaskBuilder& TaskBuilder::healthCheck(v1::HealthCheck check) {
  *task_.mutable_health_check() = std::move(check);
  return *this;
}

TaskBuilder& TaskBuilder::check(v1::CheckInfo check) {
  *task_.mutable_check() = std::move(check);
  return *this;
}

TaskBuilder& TaskBuilder::executor(v1::ExecutorInfo executor) {
  *task_.mutable_executor() = std::move(executor);
  return *this;
}

TaskBuilder& TaskBuilder::label(std::string key, std::string value) {
  v1::Label* label = task_.mutable_labels()->add_labels();
  label->set_key(std::move(key));
  label->set_value(std::move(value));
  return *this;
}

TaskBuilder& TaskBuilder::data(std::string bytes) {
  task_.set_data(std::move(bytes));
  return *this;
}

Result<v1::TaskInfo> TaskBuilder::build() const {
  AGORA_RETURN_IF_ERROR(validateId(task_.task_id().value(), "task ID"));
  const std::string where = "Task '" + quoteForLog(task_.task_id().value()) + "'";
  if (!task_.has_agent_id() || task_.agent_id().value().empty()) {
    return Status::InvalidArgument(where + " has no agent (call agent() with the offer's agent id)");
  }
  if (task_.has_command() == task_.has_executor()) {
    return Status::InvalidArgument(where + " needs exactly one of a command and an executor");
  }
  if (task_.has_command() && task_.command().value().empty()) {
    return Status::InvalidArgument(where + " has an empty command");
  }
  return task_;
}

// --- Attributes -------------------------------------------------------------

namespace {

std::string scalarText(double value) {
  Result<Scalar> scalar = Scalar::fromDouble(value);
  return scalar.ok() ? scalar->toString() : std::to_string(value);
}

std::string attributeText(const v1::Attribute& attribute) {
  switch (attribute.type()) {
    case v1::Value::SCALAR:
      return scalarText(attribute.scalar().value());
    case v1::Value::RANGES: {
      RangeSet ranges;
      for (const v1::Value::Range& r : attribute.ranges().range()) {
        if (r.begin() <= r.end()) ranges.add(Range{r.begin(), r.end()});
      }
      return ranges.toString();
    }
    case v1::Value::SET: {
      std::string out = "{";
      for (int i = 0; i < attribute.set().item_size(); ++i) {
        if (i > 0) out += ",";
        out += attribute.set().item(i);
      }
      return out + "}";
    }
    case v1::Value::TEXT:
    default:
      return attribute.text().value();
  }
}

}  // namespace

std::optional<std::string> attributeValue(const v1::Offer& offer, std::string_view attribute) {
  if (attribute == "hostname") return offer.hostname();
  for (const v1::Attribute& a : offer.attributes()) {
    if (a.name() == attribute) return attributeText(a);
  }
  return std::nullopt;
}

bool satisfies(const v1::Offer& offer, const std::vector<AttributeConstraint>& constraints) {
  for (const AttributeConstraint& c : constraints) {
    std::optional<std::string> value = attributeValue(offer, c.attribute);
    bool ok = false;
    switch (c.op) {
      case AttributeConstraint::Op::kEquals: ok = value && *value == c.value; break;
      case AttributeConstraint::Op::kNotEquals: ok = !value || *value != c.value; break;
      case AttributeConstraint::Op::kExists: ok = value.has_value(); break;
      case AttributeConstraint::Op::kNotExists: ok = !value.has_value(); break;
    }
    if (!ok) return false;
  }
  return true;
}

// --- Requests and carving ---------------------------------------------------

Result<TaskRequest> TaskRequest::parse(std::string_view text) {
  AGORA_ASSIGN_OR_RETURN(ResourceQuantities quantities, ResourceQuantities::parse(text));
  TaskRequest request;
  for (const auto& [name, amount] : quantities) {
    if (name == "cpus") {
      request.cpus = amount.toDouble();
    } else if (name == "mem") {
      request.mem = amount.toDouble();
    } else if (name == "disk") {
      request.disk = amount.toDouble();
    } else if (name == "gpus") {
      request.gpus = amount.toDouble();
    } else if (name == "ports") {
      if (amount.millis() % Scalar::kScale != 0 || amount > Scalar::of(65535)) {
        return Status::InvalidArgument("Invalid port count '" + amount.toString() + "': a whole number up to 65535");
      }
      request.ports = static_cast<uint32_t>(amount.millis() / Scalar::kScale);
    } else {
      return Status::InvalidArgument("Unknown task resource '" + quoteForLog(name) +
                                     "' (expected cpus, mem, disk, gpus or ports)");
    }
  }
  return request;
}

namespace {

// Slots of `name` usable for a task, reserved ones first (they exist for us).
std::vector<const Resource*> candidates(const Resources& available, std::string_view name, Resource::Type type) {
  std::vector<const Resource*> out;
  for (const Resource& r : available) {
    if (r.name == name && r.type() == type && !r.isAtomic() && !r.shared) out.push_back(&r);
  }
  std::stable_partition(out.begin(), out.end(), [](const Resource* r) { return r->isReserved(); });
  return out;
}

bool carveScalar(const Resources& available, std::string_view name, double amount, Resources& out) {
  Scalar need = Scalar::of(amount);
  if (need.isZero() || need.isNegative()) return true;
  for (const Resource* slot : candidates(available, name, Resource::Type::kScalar)) {
    Scalar have = std::get<Scalar>(slot->value);
    Scalar take = std::min(have, need);
    if (take.isZero()) continue;
    Resource piece = *slot;
    piece.value = take;
    out.add(piece);
    need -= take;
    if (need.isZero()) return true;
  }
  return false;
}

bool carvePorts(const Resources& available, uint32_t count, Resources& out) {
  uint64_t need = count;
  if (need == 0) return true;
  for (const Resource* slot : candidates(available, "ports", Resource::Type::kRanges)) {
    RangeSet chosen;
    for (const Range& range : std::get<RangeSet>(slot->value).ranges()) {
      if (need == 0) break;
      uint64_t n = std::min<uint64_t>(need, range.end - range.begin + 1);
      chosen.add(Range{range.begin, range.begin + n - 1});
      need -= n;
    }
    if (!chosen.empty()) {
      Resource piece = *slot;
      piece.value = chosen;
      out.add(piece);
    }
    if (need == 0) return true;
  }
  return false;
}

}  // namespace

std::optional<Resources> carve(Resources& available, const TaskRequest& request) {
  Resources task;
  if (!carveScalar(available, "cpus", request.cpus, task) || !carveScalar(available, "mem", request.mem, task) ||
      !carveScalar(available, "disk", request.disk, task) || !carveScalar(available, "gpus", request.gpus, task) ||
      !carvePorts(available, request.ports, task)) {
    return std::nullopt;
  }
  available -= task;
  return task;
}

std::vector<Resources> matchTasks(const v1::Offer& offer, const TaskRequest& request, size_t count,
                                  const std::vector<AttributeConstraint>& constraints) {
  std::vector<Resources> tasks;
  if (!satisfies(offer, constraints)) return tasks;
  Result<Resources> offered = Resources::fromProto(offer.resources());
  if (!offered.ok()) return tasks;
  Resources available = std::move(offered).value();
  while (tasks.size() < count) {
    std::optional<Resources> task = carve(available, request);
    if (!task) break;
    tasks.push_back(std::move(*task));
  }
  return tasks;
}

// --- SlotPacker -------------------------------------------------------------

SlotPacker::SlotPacker(std::vector<v1::Offer> offers, PackOptions options)
    : offers_(std::move(offers)), options_(std::move(options)) {
  for (const v1::Offer& offer : offers_) {
    Result<Resources> resources = Resources::fromProto(offer.resources());
    eligible_.push_back(resources.ok() && satisfies(offer, options_.constraints));
    remaining_.push_back(resources.ok() ? std::move(resources).value() : Resources());
    used_.push_back(0);
  }
}

std::optional<SlotPacker::Placement> SlotPacker::place(const TaskRequest& request) {
  std::vector<size_t> order(offers_.size());
  std::iota(order.begin(), order.end(), 0);
  if (options_.strategy == PackStrategy::kSpread) {
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return perAgent_[offers_[a].agent_id().value()] < perAgent_[offers_[b].agent_id().value()];
    });
  }
  for (size_t i : order) {
    if (!eligible_[i]) continue;
    size_t& onAgent = perAgent_[offers_[i].agent_id().value()];
    if (onAgent >= options_.maxPerAgent) continue;
    std::optional<Resources> task = carve(remaining_[i], request);
    if (!task) continue;
    ++onAgent;
    ++used_[i];
    return Placement{i, std::move(*task)};
  }
  return std::nullopt;
}

std::vector<std::pair<size_t, SlotPacker::Placement>> SlotPacker::placeAll(const std::vector<TaskRequest>& requests) {
  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (requests[a].cpus != requests[b].cpus) return requests[a].cpus > requests[b].cpus;
    return requests[a].mem > requests[b].mem;
  });
  std::vector<std::pair<size_t, Placement>> placed;
  for (size_t i : order) {
    if (std::optional<Placement> p = place(requests[i])) placed.emplace_back(i, std::move(*p));
  }
  std::sort(placed.begin(), placed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return placed;
}

std::vector<v1::OfferID> SlotPacker::unusedOffers() const {
  std::vector<v1::OfferID> unused;
  for (size_t i = 0; i < offers_.size(); ++i) {
    if (used_[i] == 0) unused.push_back(offers_[i].id());
  }
  return unused;
}

std::optional<int> exitStatus(const v1::TaskStatus& status) {
  auto parse = [](std::string_view text) -> std::optional<int> {
    if (text.empty() || text.size() > 3) return std::nullopt;
    int value = 0;
    for (char c : text) {
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + (c - '0');
    }
    return value <= 255 ? std::optional<int>(value) : std::nullopt;
  };
  for (const v1::Label& label : status.labels().labels()) {
    if (label.key() == kExitStatusLabel) return parse(label.value());
  }
  constexpr std::string_view kPrefix = "Command exited with status ";
  const std::string& message = status.message();
  if (message.rfind(kPrefix, 0) == 0) return parse(std::string_view(message).substr(kPrefix.size()));
  return std::nullopt;
}

}  // namespace agora::sdk
