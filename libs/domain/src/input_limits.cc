#include "leadflow/domain/input_limits.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>

#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "leadflow/domain/field_error.h"

namespace leadflow::domain {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

enum class StringKind { kId, kText, kUrl, kShort };

// Field names are the schema's vocabulary: an `*_id` is an id everywhere,
// a `body` free text everywhere. New fields fall under the short limit
// until they are named here.
StringKind KindOf(const FieldDescriptor& field) {
  const absl::string_view name = field.name();
  if (name == "id" || absl::EndsWith(name, "_id") || absl::EndsWith(name, "_ids") ||
      name == "actor" || name == "owner" || name == "source" || name == "channel" ||
      name == "handle" || name == "topic" || name == "identity_keys" || name == "members" ||
      name == "merged" || name == "item" || name == "field" || name == "required_fields" ||
      name == "conversion_required_fields" || name == "type" || name == "currency_code" ||
      name == "processor" || name == "engine") {
    return StringKind::kId;
  }
  if (name == "body" || name == "text" || name == "comment" || name == "comments" ||
      name == "description" || name == "content" || name == "summary" || name == "details" ||
      name == "message" || name == "junk_text" || name == "reason" || name == "result" ||
      name == "source_description") {
    return StringKind::kText;
  }
  if (absl::EndsWith(name, "_url")) return StringKind::kUrl;
  return StringKind::kShort;
}

size_t LimitOf(StringKind kind) {
  switch (kind) {
    case StringKind::kId:
      return InputLimits::kIdBytes;
    case StringKind::kText:
      return InputLimits::kTextBytes;
    case StringKind::kUrl:
      return InputLimits::kUrlBytes;
    case StringKind::kShort:
      return InputLimits::kShortBytes;
  }
  return InputLimits::kShortBytes;
}

int ItemLimitOf(const FieldDescriptor& field) {
  const absl::string_view name = field.name();
  if (name == "phones" || name == "emails" || name == "messengers") {
    return InputLimits::kContactPoints;
  }
  if (name == "events") return InputLimits::kBatchItems;
  return InputLimits::kListItems;
}

bool HasFormattingControls(absl::string_view value) {
  for (unsigned char c : value) {
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) return true;
  }
  return false;
}

// Where a value sits ("lead.phones[2].number"), spelled out only when it
// is refused: most inputs pass, and building every path cost more than the
// checks themselves.
struct Path {
  const Path* parent = nullptr;
  absl::string_view name;            // a field's name (or the caller's prefix)
  int index = -1;                    // a repeated field's item
  const std::string* key = nullptr;  // a map entry's key
  bool key_itself = false;           // the map key, not its value

  std::string Render() const {
    std::string out = parent == nullptr ? std::string() : parent->Render();
    if (!name.empty()) {
      if (!out.empty()) out += '.';
      absl::StrAppend(&out, name);
    }
    if (index >= 0) absl::StrAppend(&out, "[", index, "]");
    if (key != nullptr) absl::StrAppend(&out, key_itself ? " key" : absl::StrCat("[", *key, "]"));
    return out;
  }
};

// The kind of a string field, computed once per field: its name is looked
// up in the lists above.
StringKind CachedKindOf(const FieldDescriptor& field) {
  thread_local absl::flat_hash_map<const FieldDescriptor*, StringKind> kinds;
  auto [it, inserted] = kinds.try_emplace(&field, StringKind::kShort);
  if (inserted) it->second = KindOf(field);
  return it->second;
}

absl::Status CheckString(absl::string_view value, StringKind kind, size_t limit, const Path& path) {
  if (value.size() > limit) {
    return InvalidField(path.Render(),
                        absl::StrCat("longer than ", limit, " bytes (", value.size(), ")"));
  }
  if (kind == StringKind::kId || kind == StringKind::kUrl) {
    if (HasControlCharacters(value))
      return InvalidField(path.Render(), "contains control characters");
  } else if (HasFormattingControls(value)) {
    return InvalidField(path.Render(),
                        "contains control characters other than tab and line breaks");
  }
  return absl::OkStatus();
}

absl::Status CheckMessage(const Message& message, const Path& at, int depth);

// A map entry: the key is named in the path ("fields[phone]") and held to
// the id rules; the value to the map-value limit, or checked as a message.
absl::Status CheckMapEntry(const Message& entry, const Path& at, int depth) {
  const Reflection* reflection = entry.GetReflection();
  const FieldDescriptor* key_field = entry.GetDescriptor()->map_key();
  const FieldDescriptor* value_field = entry.GetDescriptor()->map_value();
  std::string key;
  if (key_field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
    key = reflection->GetString(entry, key_field);
    const Path key_path{&at, "", -1, &key, true};
    if (absl::Status s = CheckString(key, StringKind::kId, InputLimits::kIdBytes, key_path);
        !s.ok()) {
      return s;
    }
  }
  const Path value_path{&at, "", -1, &key, false};
  switch (value_field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return CheckString(reflection->GetString(entry, value_field), StringKind::kText,
                         InputLimits::kMapValueBytes, value_path);
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return CheckMessage(reflection->GetMessage(entry, value_field), value_path, depth + 1);
    default:
      return absl::OkStatus();
  }
}

absl::Status CheckField(const Message& message, const FieldDescriptor& field, const Path& at,
                        int depth) {
  const Reflection* reflection = message.GetReflection();
  const bool is_string = field.cpp_type() == FieldDescriptor::CPPTYPE_STRING &&
                         field.type() != FieldDescriptor::TYPE_BYTES;
  if (!field.is_repeated()) {
    if (is_string) {
      const StringKind kind = CachedKindOf(field);
      std::string scratch;
      return CheckString(reflection->GetStringReference(message, &field, &scratch), kind,
                         LimitOf(kind), at);
    }
    if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      return CheckMessage(reflection->GetMessage(message, &field), at, depth + 1);
    }
    return absl::OkStatus();
  }
  const int size = reflection->FieldSize(message, &field);
  const int limit = ItemLimitOf(field);
  if (size > limit) {
    return InvalidField(at.Render(),
                        absl::StrCat("more than ", limit, " ", field.is_map() ? "entries" : "items",
                                     " (", size, ")"));
  }
  for (int i = 0; i < size; ++i) {
    if (field.is_map()) {
      if (absl::Status s =
              CheckMapEntry(reflection->GetRepeatedMessage(message, &field, i), at, depth + 1);
          !s.ok()) {
        return s;
      }
      continue;
    }
    const Path item{&at, "", i};
    if (is_string) {
      const StringKind kind = CachedKindOf(field);
      std::string scratch;
      if (absl::Status s =
              CheckString(reflection->GetRepeatedStringReference(message, &field, i, &scratch),
                          kind, LimitOf(kind), item);
          !s.ok()) {
        return s;
      }
    } else if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (absl::Status s =
              CheckMessage(reflection->GetRepeatedMessage(message, &field, i), item, depth + 1);
          !s.ok()) {
        return s;
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CheckMessage(const Message& message, const Path& at, int depth) {
  if (depth > InputLimits::kDepth) {
    return InvalidField(at.Render(), absl::StrCat("nested deeper than ", InputLimits::kDepth));
  }
  // ListFields allocates; a small reused buffer per nesting level does not.
  thread_local std::vector<std::vector<const FieldDescriptor*>> buffers;
  if (buffers.size() <= static_cast<size_t>(depth)) buffers.resize(depth + 1);
  std::vector<const FieldDescriptor*> fields;
  fields.swap(buffers[depth]);
  fields.clear();
  message.GetReflection()->ListFields(message, &fields);
  absl::Status status;
  for (const FieldDescriptor* field : fields) {
    const Path path{&at, field->name()};
    status = CheckField(message, *field, path, depth);
    if (!status.ok()) break;
  }
  fields.swap(buffers[depth]);
  return status;
}

}  // namespace

bool HasControlCharacters(absl::string_view value) {
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

absl::Status CheckInputLimits(const Message& message, absl::string_view prefix) {
  const Path root{nullptr, prefix};
  return CheckMessage(message, root, 0);
}

absl::Status CheckCommandLimits(const v1::Command& command) {
  const Reflection* reflection = command.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(command, &fields);
  const Path root;
  for (const FieldDescriptor* field : fields) {
    const bool payload = field->containing_oneof() != nullptr &&
                         field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
    absl::Status s;
    if (payload) {
      // The payload's fields are the request's own; the envelope's keep
      // their names.
      s = CheckMessage(reflection->GetMessage(command, field), root, 1);
    } else if (field->name() == "command_id") {
      // Made of the aggregate id and the request id, each an id.
      s = CheckString(command.command_id(), StringKind::kId, 3 * InputLimits::kIdBytes,
                      Path{&root, "command_id"});
    } else {
      s = CheckField(command, *field, Path{&root, field->name()}, 0);
    }
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace leadflow::domain
