#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "leadflow/v1/channel_event.pb.h"

namespace leadflow::http {

using Params = std::vector<std::pair<std::string, std::string>>;

// application/x-www-form-urlencoded (a query string or a form body): pairs
// in order, '+' as space, %XX decoded. INVALID_ARGUMENT names a broken
// escape or a name that is empty.
absl::StatusOr<Params> ParseUrlEncoded(absl::string_view text);

// A plain HTML form posted to /v1/forms/{form_id}.
struct FormPost {
  std::string form_id;
  // The form's fields (the body), in order.
  Params fields;
  // The page's query string: UTM tags arrive on the landing page's address.
  Params query;
  // The Referer header: the page the form was on.
  std::string referer;
  // The Idempotency-Key header, when the site sends one.
  std::string idempotency_key;
  absl::Time received;
};

// The web-form channel event a form post becomes. Its id is the
// Idempotency-Key, else an `event_id` field, else derived from the form and
// its fields, so a double submit of the same form is one event. utm_* come
// from the fields or the query string (a hidden field wins); `page_url`
// from a field, else the Referer. Reserved fields (event_id, page_url,
// utm_*, api_key) are not kept among the lead's fields. Validation beyond
// the shape (limits, phones) is intake's, the same as over gRPC.
absl::StatusOr<v1::ChannelEvent> WebFormEvent(const FormPost& post);

}  // namespace leadflow::http
