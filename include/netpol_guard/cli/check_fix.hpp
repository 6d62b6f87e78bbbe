#pragma once

// `check --fix DIR`: for every namespace of the manifests that remediation would
// change, writes DIR/<namespace>.default-deny.yaml holding the objects
// `remediate` would create (netpol/remediation.hpp). The input files are never
// written: a target that is one of them is an error.

#include <boost/system/result.hpp>
#include <string>
#include <vector>

#include "netpol_guard/netpol/manifest_loader.hpp"
#include "netpol_guard/netpol/report.hpp"

namespace netpol_guard::cli {

struct fix_outcome {
  std::vector<std::string> written;    // the files written, in namespace order
  std::vector<std::string> conflicts;  // "<namespace>: why", namespaces that cannot be fixed
};

// `objects` are the manifests `report` was built from: their NetworkPolicies'
// names decide which names are free, and their files may not be written;
// `input_paths` are the PATHs given, under which no existing file is written.
boost::system::result<fix_outcome, std::string> write_fixes(
    const compliance_report& report, const std::vector<manifest_object>& objects,
    const std::vector<std::string>& input_paths, const std::string& dir, bool with_dns_egress);

}  // namespace netpol_guard::cli
