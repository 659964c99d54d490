#include "submit_refusal.h"

namespace cmdq::app {

bool IsTransientSubmitError(const Status& error) {
  switch (error.code()) {
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
      return true;
    case StatusCode::kResourceExhausted:
      return error.field().empty();
    default:
      return false;
  }
}

}  // namespace cmdq::app
