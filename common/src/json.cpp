#include "agora/common/json.hpp"

#include "agora/common/json_body.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <exception>
#include <limits>
#include <new>
#include <type_traits>
#include <vector>

#include <google/protobuf/descriptor.h>

#include "agora/common/id.hpp"

namespace agora {

namespace pb = google::protobuf;
using Json = nlohmann::json;

namespace {

// Longest piece of untrusted text (a key, a value, a parser message) quoted
// in an error.
constexpr size_t kMaxQuoted = 64;
constexpr size_t kMaxParserMessage = 240;
constexpr size_t kMaxMissingFieldsListed = 8;

// Runs `fn`, turning any exception into a Status: no exception leaves this
// file.
template <typename Fn>
auto guarded(std::string_view what, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted(std::string(what) + ": out of memory");
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string(what) + ": " + quoteForLog(e.what(), kMaxParserMessage));
  } catch (...) {
    return Status::Internal(std::string(what) + ": unknown exception");
  }
}

// Where we are inside a message, for errors: "a.b[3].c" or `limits["cpus"]`.
class FieldPath {
 public:
  void pushField(std::string_view name) { parts_.emplace_back(name); }
  void pushIndex(size_t index) { parts_.push_back("[" + std::to_string(index) + "]"); }
  void pushKey(std::string_view key) { parts_.push_back("[\"" + quoteForLog(key, kMaxQuoted) + "\"]"); }
  void pop() { parts_.pop_back(); }

  std::string str() const {
    std::string out;
    for (const std::string& part : parts_) {
      if (!out.empty() && part.front() != '[') out += '.';
      out += part;
    }
    return out;
  }

 private:
  std::vector<std::string> parts_;
};

bool isValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    size_t length;
    uint32_t codePoint;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      length = 2;
      codePoint = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      length = 3;
      codePoint = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      length = 4;
      codePoint = c & 0x07;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      codePoint = (codePoint << 6) | (next & 0x3F);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (codePoint < kMinForLength[length]) return false;                // Overlong.
    if (codePoint > 0x10FFFF) return false;                             // Beyond Unicode.
    if (codePoint >= 0xD800 && codePoint <= 0xDFFF) return false;       // Surrogate.
    i += length;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Printing.

class Printer {
 public:
  explicit Printer(const JsonPrintOptions& options) : options_(options) {}

  Result<Json> message(const pb::Message& message) {
    const pb::Reflection* reflection = message.GetReflection();
    const pb::Descriptor* descriptor = message.GetDescriptor();

    std::vector<const pb::FieldDescriptor*> fields;
    reflection->ListFields(message, &fields);
    if (options_.emitExplicitDefaults) {
      for (int i = 0; i < descriptor->field_count(); ++i) {
        const pb::FieldDescriptor* field = descriptor->field(i);
        if (!field->is_repeated() && field->has_default_value() && field->containing_oneof() == nullptr &&
            !reflection->HasField(message, field)) {
          fields.push_back(field);
        }
      }
    }

    Json object = Json::object();
    for (const pb::FieldDescriptor* field : fields) {
      path_.pushField(field->name());
      Result<Json> value = this->field(message, field);
      path_.pop();
      if (!value.ok()) return value.error();
      object[field->name()] = std::move(value).value();
    }
    return object;
  }

 private:
  Result<Json> field(const pb::Message& message, const pb::FieldDescriptor* field) {
    const pb::Reflection* reflection = message.GetReflection();
    if (field->is_map()) {
      Json object = Json::object();
      const pb::FieldDescriptor* keyField = field->message_type()->map_key();
      const pb::FieldDescriptor* valueField = field->message_type()->map_value();
      for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
        const pb::Message& entry = reflection->GetRepeatedMessage(message, field, i);
        Result<Json> key = value(entry, keyField, -1);
        if (!key.ok()) return key.error();
        std::string keyText = key->is_string() ? key->get<std::string>() : key->dump();
        path_.pushKey(keyText);
        Result<Json> mapped = value(entry, valueField, -1);
        path_.pop();
        if (!mapped.ok()) return mapped.error();
        object[keyText] = std::move(mapped).value();
      }
      return object;
    }
    if (field->is_repeated()) {
      Json array = Json::array();
      for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
        path_.pushIndex(static_cast<size_t>(i));
        Result<Json> element = value(message, field, i);
        path_.pop();
        if (!element.ok()) return element.error();
        array.push_back(std::move(element).value());
      }
      return array;
    }
    return value(message, field, -1);
  }

  // One value of `field`: the singular value when `index` < 0, otherwise the
  // index-th element.
  Result<Json> value(const pb::Message& message, const pb::FieldDescriptor* field, int index) {
    const pb::Reflection* r = message.GetReflection();
    const bool repeated = index >= 0;
    switch (field->cpp_type()) {
      case pb::FieldDescriptor::CPPTYPE_INT32:
        return Json(repeated ? r->GetRepeatedInt32(message, field, index) : r->GetInt32(message, field));
      case pb::FieldDescriptor::CPPTYPE_INT64:
        return Json(repeated ? r->GetRepeatedInt64(message, field, index) : r->GetInt64(message, field));
      case pb::FieldDescriptor::CPPTYPE_UINT32:
        return Json(repeated ? r->GetRepeatedUInt32(message, field, index) : r->GetUInt32(message, field));
      case pb::FieldDescriptor::CPPTYPE_UINT64:
        return Json(repeated ? r->GetRepeatedUInt64(message, field, index) : r->GetUInt64(message, field));
      case pb::FieldDescriptor::CPPTYPE_DOUBLE:
        return number(repeated ? r->GetRepeatedDouble(message, field, index) : r->GetDouble(message, field));
      case pb::FieldDescriptor::CPPTYPE_FLOAT:
        return number(repeated ? r->GetRepeatedFloat(message, field, index) : r->GetFloat(message, field));
      case pb::FieldDescriptor::CPPTYPE_BOOL:
        return Json(repeated ? r->GetRepeatedBool(message, field, index) : r->GetBool(message, field));
      case pb::FieldDescriptor::CPPTYPE_ENUM: {
        const pb::EnumValueDescriptor* value =
            repeated ? r->GetRepeatedEnum(message, field, index) : r->GetEnum(message, field);
        return Json(value->name());
      }
      case pb::FieldDescriptor::CPPTYPE_STRING: {
        std::string scratch;
        const std::string& text = repeated ? r->GetRepeatedStringReference(message, field, index, &scratch)
                                           : r->GetStringReference(message, field, &scratch);
        if (field->type() == pb::FieldDescriptor::TYPE_BYTES) return Json(base64Encode(text));
        if (!isValidUtf8(text)) {
          return Status::InvalidArgument("string field '" + path_.str() +
                                         "' is not valid UTF-8 (binary data belongs in a bytes field)");
        }
        return Json(text);
      }
      case pb::FieldDescriptor::CPPTYPE_MESSAGE: {
        const pb::Message& sub =
            repeated ? r->GetRepeatedMessage(message, field, index) : r->GetMessage(message, field);
        return this->message(sub);
      }
    }
    return Status::Internal("unhandled protobuf field type for '" + path_.str() + "'");
  }

  static Json number(double value) {
    if (std::isnan(value)) return Json("NaN");
    if (std::isinf(value)) return Json(value > 0 ? "Infinity" : "-Infinity");
    return Json(value);
  }

  const JsonPrintOptions& options_;
  FieldPath path_;
};

// ---------------------------------------------------------------------------
// Parsing.

// Rejects nesting deeper than `maxDepth` with one linear pass, before any
// recursive parser sees the input.
Status checkDepth(std::string_view json, int maxDepth) {
  size_t offset = findExcessNesting(json, static_cast<size_t>(maxDepth));
  if (offset == std::string_view::npos) return Status::OK();
  return Status::InvalidArgument("Invalid JSON: nesting deeper than " + std::to_string(maxDepth) +
                                 " levels at byte offset " + std::to_string(offset));
}

// The parser's own message without its "[json.exception...] " tag.
std::string parserMessage(const std::exception& e) {
  std::string_view text = e.what();
  if (!text.empty() && text.front() == '[') {
    size_t end = text.find("] ");
    if (end != std::string_view::npos) text.remove_prefix(end + 2);
  }
  return quoteForLog(text, kMaxParserMessage);
}

class Parser {
 public:
  explicit Parser(const JsonParseOptions& options) : options_(options) {}

  Status message(const Json& json, pb::Message* message, int depth) {
    if (depth > options_.maxDepth) {
      return error("nesting deeper than " + std::to_string(options_.maxDepth) + " levels");
    }
    if (!json.is_object()) return error(std::string("expected an object, got ") + json.type_name());

    const pb::Descriptor* descriptor = message->GetDescriptor();
    const pb::Reflection* reflection = message->GetReflection();
    for (const auto& [key, value] : json.items()) {
      const pb::FieldDescriptor* field = descriptor->FindFieldByName(key);
      if (field == nullptr) {
        if (options_.ignoreUnknownFields) continue;
        return error("unknown field '" + quoteForLog(key, kMaxQuoted) + "' in " + descriptor->full_name());
      }
      if (value.is_null()) continue;

      if (const pb::OneofDescriptor* oneof = field->containing_oneof();
          oneof != nullptr && reflection->HasOneof(*message, oneof)) {
        const pb::FieldDescriptor* other = reflection->GetOneofFieldDescriptor(*message, oneof);
        return error("fields '" + other->name() + "' and '" + field->name() + "' are both set but belong to oneof '" +
                     oneof->name() + "'");
      }

      path_.pushField(field->name());
      Status status = this->field(value, message, field, depth);
      if (!status.ok()) return status;
      path_.pop();
    }
    return Status::OK();
  }

 private:
  Status field(const Json& json, pb::Message* message, const pb::FieldDescriptor* field, int depth) {
    const pb::Reflection* reflection = message->GetReflection();
    if (field->is_map()) {
      if (!json.is_object()) return error(std::string("expected an object (a map), got ") + json.type_name());
      const pb::FieldDescriptor* keyField = field->message_type()->map_key();
      const pb::FieldDescriptor* valueField = field->message_type()->map_value();
      for (const auto& [key, value] : json.items()) {
        path_.pushKey(key);
        pb::Message* entry = reflection->AddMessage(message, field);
        AGORA_RETURN_IF_ERROR(mapKey(key, entry, keyField));
        if (!value.is_null()) {
          bool dropped = false;
          AGORA_RETURN_IF_ERROR(single(value, entry, valueField, depth + 1, &dropped));
          if (dropped) return error("unknown value " + quoteValue(value) + " for enum " + enumName(valueField));
        }
        path_.pop();
      }
      return Status::OK();
    }
    if (field->is_repeated()) {
      if (!json.is_array()) return error(std::string("expected an array, got ") + json.type_name());
      size_t index = 0;
      for (const Json& element : json) {
        path_.pushIndex(index++);
        if (element.is_null()) return error("null is not allowed in an array");
        bool dropped = false;
        AGORA_RETURN_IF_ERROR(single(element, message, field, depth + 1, &dropped));
        path_.pop();
      }
      return Status::OK();
    }
    bool dropped = false;
    AGORA_RETURN_IF_ERROR(single(json, message, field, depth + 1, &dropped));
    if (dropped && field->is_required()) {
      return error("unknown value " + quoteValue(json) + " for enum " + enumName(field));
    }
    return Status::OK();
  }

  // Sets (singular) or adds (repeated) one value of `field`. An unknown enum
  // name sets `*dropped` and leaves the message unchanged.
  Status single(const Json& json, pb::Message* message, const pb::FieldDescriptor* field, int depth, bool* dropped) {
    const pb::Reflection* r = message->GetReflection();
    const bool repeated = field->is_repeated();
    switch (field->cpp_type()) {
      case pb::FieldDescriptor::CPPTYPE_INT32:
        return storeInteger<int32_t>(json, message, field, &pb::Reflection::SetInt32, &pb::Reflection::AddInt32);
      case pb::FieldDescriptor::CPPTYPE_INT64:
        return storeInteger<int64_t>(json, message, field, &pb::Reflection::SetInt64, &pb::Reflection::AddInt64);
      case pb::FieldDescriptor::CPPTYPE_UINT32:
        return storeInteger<uint32_t>(json, message, field, &pb::Reflection::SetUInt32, &pb::Reflection::AddUInt32);
      case pb::FieldDescriptor::CPPTYPE_UINT64:
        return storeInteger<uint64_t>(json, message, field, &pb::Reflection::SetUInt64, &pb::Reflection::AddUInt64);
      case pb::FieldDescriptor::CPPTYPE_DOUBLE: {
        AGORA_ASSIGN_OR_RETURN(double value, floating(json));
        store<double>(message, field, value, &pb::Reflection::SetDouble, &pb::Reflection::AddDouble);
        return Status::OK();
      }
      case pb::FieldDescriptor::CPPTYPE_FLOAT: {
        AGORA_ASSIGN_OR_RETURN(double value, floating(json));
        if (std::isfinite(value) && std::fabs(value) > std::numeric_limits<float>::max()) {
          return error("number " + quoteValue(json) + " is out of range for a float");
        }
        store<float>(message, field, static_cast<float>(value), &pb::Reflection::SetFloat, &pb::Reflection::AddFloat);
        return Status::OK();
      }
      case pb::FieldDescriptor::CPPTYPE_BOOL:
        if (!json.is_boolean()) return error(std::string("expected true or false, got ") + json.type_name());
        store<bool>(message, field, json.get<bool>(), &pb::Reflection::SetBool, &pb::Reflection::AddBool);
        return Status::OK();
      case pb::FieldDescriptor::CPPTYPE_ENUM: {
        const pb::EnumValueDescriptor* value = nullptr;
        if (json.is_string()) {
          value = field->enum_type()->FindValueByName(json.get_ref<const std::string&>());
        } else if (json.is_number_integer()) {
          Result<int32_t> number = integer<int32_t>(json);
          if (number.ok()) value = field->enum_type()->FindValueByNumber(*number);
        } else {
          return error(std::string("expected the name of a ") + enumName(field) + " value, got " + json.type_name());
        }
        if (value == nullptr) {
          *dropped = true;
          return Status::OK();
        }
        repeated ? r->AddEnum(message, field, value) : r->SetEnum(message, field, value);
        return Status::OK();
      }
      case pb::FieldDescriptor::CPPTYPE_STRING: {
        if (!json.is_string()) return error(std::string("expected a string, got ") + json.type_name());
        std::string value = json.get<std::string>();
        if (field->type() == pb::FieldDescriptor::TYPE_BYTES) {
          Result<std::string> decoded = base64Decode(value);
          if (!decoded.ok()) return error(decoded.error().message());
          value = std::move(decoded).value();
        }
        repeated ? r->AddString(message, field, std::move(value)) : r->SetString(message, field, std::move(value));
        return Status::OK();
      }
      case pb::FieldDescriptor::CPPTYPE_MESSAGE: {
        pb::Message* sub = repeated ? r->AddMessage(message, field) : r->MutableMessage(message, field);
        return this->message(json, sub, depth);
      }
    }
    return Status::Internal("unhandled protobuf field type for '" + path_.str() + "'");
  }

  // Reflection's SetX / AddX for a field of C++ type T.
  template <typename T>
  using Setter = void (pb::Reflection::*)(pb::Message*, const pb::FieldDescriptor*, T) const;

  template <typename T>
  static void store(pb::Message* message, const pb::FieldDescriptor* field, T value, Setter<T> set, Setter<T> add) {
    (message->GetReflection()->*(field->is_repeated() ? add : set))(message, field, value);
  }

  template <typename T>
  Status storeInteger(const Json& json, pb::Message* message, const pb::FieldDescriptor* field, Setter<T> set,
                      Setter<T> add) {
    AGORA_ASSIGN_OR_RETURN(T value, integer<T>(json));
    store<T>(message, field, value, set, add);
    return Status::OK();
  }

  // Map keys are JSON object keys, i.e. always strings.
  Status mapKey(const std::string& key, pb::Message* entry, const pb::FieldDescriptor* keyField) {
    if (keyField->cpp_type() == pb::FieldDescriptor::CPPTYPE_STRING) {
      entry->GetReflection()->SetString(entry, keyField, key);
      return Status::OK();
    }
    if (keyField->cpp_type() == pb::FieldDescriptor::CPPTYPE_BOOL) {
      if (key != "true" && key != "false") return error("map key must be \"true\" or \"false\"");
      entry->GetReflection()->SetBool(entry, keyField, key == "true");
      return Status::OK();
    }
    bool dropped = false;
    return single(Json(key), entry, keyField, 0, &dropped);
  }

  template <typename T>
  Result<T> integer(const Json& json) {
    static_assert(std::is_integral_v<T>);
    const std::string kind = std::is_signed_v<T> ? "a signed " : "an unsigned ";
    const std::string width = std::to_string(sizeof(T) * 8) + "-bit integer";
    auto outOfRange = [&]() { return error("number " + quoteValue(json) + " is out of range for " + kind + width); };

    if (json.is_number_unsigned()) {
      const auto value = json.get<uint64_t>();
      if (value > static_cast<uint64_t>(std::numeric_limits<T>::max())) return outOfRange();
      return static_cast<T>(value);
    }
    if (json.is_number_integer()) {
      const auto value = json.get<int64_t>();
      if (value < static_cast<int64_t>(std::numeric_limits<T>::min())) return outOfRange();
      if (value > 0 && static_cast<uint64_t>(value) > static_cast<uint64_t>(std::numeric_limits<T>::max())) {
        return outOfRange();
      }
      return static_cast<T>(value);
    }
    if (json.is_number_float()) {
      const double value = json.get<double>();
      if (!std::isfinite(value) || value != std::trunc(value)) {
        return error("expected an integer, got " + quoteValue(json));
      }
      // 2^63 and 2^64 are exact doubles; compare against them, not max().
      const double upper = std::is_signed_v<T> ? std::ldexp(1.0, static_cast<int>(sizeof(T) * 8 - 1))
                                               : std::ldexp(1.0, static_cast<int>(sizeof(T) * 8));
      const double lower = std::is_signed_v<T> ? -upper : 0.0;
      if (value < lower || value >= upper) return outOfRange();
      return static_cast<T>(value);
    }
    if (json.is_string()) {
      const std::string& text = json.get_ref<const std::string&>();
      T value{};
      const char* end = text.data() + text.size();
      auto [ptr, ec] = std::from_chars(text.data(), end, value);
      if (ec == std::errc::result_out_of_range) return outOfRange();
      if (ec != std::errc() || ptr != end || text.empty()) {
        return error("expected an integer, got the string " + quoteValue(json));
      }
      return value;
    }
    return error(std::string("expected an integer, got ") + json.type_name());
  }

  Result<double> floating(const Json& json) {
    if (json.is_number()) return json.get<double>();
    if (json.is_string()) {
      const std::string& text = json.get_ref<const std::string&>();
      if (text == "Infinity") return std::numeric_limits<double>::infinity();
      if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
      if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
      double value = 0;
      const char* end = text.data() + text.size();
      auto [ptr, ec] = std::from_chars(text.data(), end, value);
      if (ec != std::errc() || ptr != end || text.empty() || !std::isfinite(value)) {
        return error("expected a number, got the string " + quoteValue(json));
      }
      return value;
    }
    return error(std::string("expected a number, got ") + json.type_name());
  }

  static std::string enumName(const pb::FieldDescriptor* field) { return field->enum_type()->full_name(); }

  static std::string quoteValue(const Json& json) {
    if (json.is_string()) return "'" + quoteForLog(json.get_ref<const std::string&>(), kMaxQuoted) + "'";
    return quoteForLog(json.dump(), kMaxQuoted);
  }

  Status error(const std::string& what) const {
    const std::string where = path_.str();
    return Status::InvalidArgument(where.empty() ? what : "at '" + where + "': " + what);
  }

  const JsonParseOptions& options_;
  FieldPath path_;
};

// "a.b, c[0].d" from protobuf's list of missing required fields.
std::string listMissing(const std::vector<std::string>& missing) {
  std::string out;
  for (size_t i = 0; i < missing.size() && i < kMaxMissingFieldsListed; ++i) {
    if (i > 0) out += ", ";
    out += "'" + quoteForLog(missing[i], kMaxQuoted) + "'";
  }
  if (missing.size() > kMaxMissingFieldsListed) {
    out += " and " + std::to_string(missing.size() - kMaxMissingFieldsListed) + " more";
  }
  return out;
}

Status parseInto(const Json& json, pb::Message* message, const JsonParseOptions& options) {
  message->Clear();
  Parser parser(options);
  AGORA_RETURN_IF_ERROR(parser.message(json, message, 1));
  if (!message->IsInitialized()) {
    std::vector<std::string> missing;
    message->FindInitializationErrors(&missing);
    return Status::InvalidArgument("missing required field" + std::string(missing.size() == 1 ? " " : "s ") +
                                   listMissing(missing));
  }
  return Status::OK();
}

std::string parseContext(const pb::Message& message) {
  return "Failed to parse " + message.GetDescriptor()->full_name() + " from JSON";
}

}  // namespace

// ---------------------------------------------------------------------------

Result<nlohmann::json> toJsonValue(const pb::Message& message, const JsonPrintOptions& options) {
  const std::string context = "Failed to print " + message.GetDescriptor()->full_name() + " as JSON";
  return guarded(context, [&]() -> Result<Json> {
    Result<Json> json = Printer(options).message(message);
    if (!json.ok()) return json.error().withContext(context);
    return json;
  });
}

Result<std::string> toJson(const pb::Message& message, const JsonPrintOptions& options) {
  const std::string context = "Failed to print " + message.GetDescriptor()->full_name() + " as JSON";
  return guarded(context, [&]() -> Result<std::string> {
    AGORA_ASSIGN_OR_RETURN(Json json, toJsonValue(message, options));
    return json.dump(-1, ' ', false, Json::error_handler_t::strict);
  });
}

Result<nlohmann::json> parseJson(std::string_view json, const JsonParseOptions& options) {
  if (json.size() > options.maxBytes) {
    return Status::InvalidArgument("Invalid JSON: input is " + std::to_string(json.size()) +
                                   " bytes, more than the limit of " + std::to_string(options.maxBytes));
  }
  AGORA_RETURN_IF_ERROR(checkDepth(json, options.maxDepth));
  return guarded("Invalid JSON", [&]() -> Result<Json> {
    try {
      return Json::parse(json.begin(), json.end());
    } catch (const Json::exception& e) {
      return Status::InvalidArgument("Invalid JSON: " + parserMessage(e));
    }
  });
}

Status fromJsonValue(const nlohmann::json& json, pb::Message* message, const JsonParseOptions& options) {
  return guarded(parseContext(*message), [&]() -> Status {
    return parseInto(json, message, options).withContext(parseContext(*message));
  });
}

Status fromJson(std::string_view json, pb::Message* message, const JsonParseOptions& options) {
  Result<Json> parsed = parseJson(json, options);
  if (!parsed.ok()) return parsed.error().withContext(parseContext(*message));
  return fromJsonValue(*parsed, message, options);
}

// ---------------------------------------------------------------------------
// Base64 (RFC 4648, standard alphabet).

namespace {
constexpr char kBase64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
}  // namespace

std::string base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t n = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8) | static_cast<unsigned char>(bytes[i + 2]);
    out += kBase64Alphabet[(n >> 18) & 63];
    out += kBase64Alphabet[(n >> 12) & 63];
    out += kBase64Alphabet[(n >> 6) & 63];
    out += kBase64Alphabet[n & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kBase64Alphabet[(n >> 18) & 63];
    out += kBase64Alphabet[(n >> 12) & 63];
    out += rest == 2 ? kBase64Alphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::string> base64Decode(std::string_view text) {
  size_t length = text.size();
  size_t padding = 0;
  while (length > 0 && text[length - 1] == '=' && padding < 2) {
    --length;
    ++padding;
  }
  if (padding > 0 && text.size() % 4 != 0) return Status::InvalidArgument("invalid base64: bad padding");
  if (length % 4 == 1) return Status::InvalidArgument("invalid base64: truncated input");

  std::string out;
  out.reserve(length / 4 * 3 + 2);
  uint32_t buffer = 0;
  int bits = 0;
  for (size_t i = 0; i < length; ++i) {
    const int value = base64Value(text[i]);
    if (value < 0) {
      return Status::InvalidArgument("invalid base64: unexpected character at offset " + std::to_string(i));
    }
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return out;
}

}  // namespace agora
