#pragma once

// The nlohmann SAX decoder of AdmissionReviews that src/admission/review_decoder.cpp
// replaced. Tests and the differential fuzz target compare the two; it is not in
// the product.

#include <boost/system/result.hpp>
#include <string_view>

#include "netpol_guard/admission/review_decoder.hpp"

namespace netpol_guard::oracle {

boost::system::result<admission_request, codec_error> decode_admission_review_nlohmann(
    std::string_view body);

}  // namespace netpol_guard::oracle
