// Package eval measures chargewatch's indoor-charging detector against
// ground truth: simulated cities (households with look-alike appliances,
// calibrated chargers) and a semi-synthetic set built from real traces.
// Readings go through alerting/detect exactly as the alerting engine feeds
// them, alerts are matched to true sessions by unit and time, and the
// figures come with confidence intervals. docs/detection.md has the method
// and the measured table.
package eval
