package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/chargewatch/chargewatch/devices"
)

// The installers' lifecycle commands (replace a device, move a device,
// decommission a gateway) change the site file and the registry together:
// the site file stays the one source of truth, so the next import does not
// undo them. Each command
//
//  1. checks that the registry holds exactly what the site file holds (an
//     import of it would change nothing); otherwise it refuses, because it
//     would also apply changes nobody reviewed;
//  2. edits the site file's text in place (comments and layout are kept)
//     and validates the result;
//  3. in one transaction imports the edited site, bumps the generation (so
//     running servers reload within seconds), and writes the audit entry and,
//     for a replacement, the device's lineage;
//  4. then replaces the site file with the edited one.
//
// A failure before step 4 leaves the file as it was and the registry
// unchanged; the edited file is written next to the original first, so the
// rename of step 4 is the only thing left after the commit.

// Change says who makes a lifecycle change, and why.
type Change struct {
	By   string // person id or login of the installer; required
	Note string // free text: the work order, what was wrong
}

// LifecycleResult is what a lifecycle command did.
type LifecycleResult struct {
	Audit   AuditEntry
	Changes *Changes
	// Reminders are what else the installer has to do, outside the
	// registry (gateway configs, broker accounts, open alerts).
	Reminders []string
}

// SiteOutOfSyncError is returned when the registry does not hold what the
// site file holds, so a lifecycle command would also apply other changes.
type SiteOutOfSyncError struct {
	Path    string
	Changes *Changes
}

func (e *SiteOutOfSyncError) Error() string {
	var parts []string
	for _, c := range e.Changes.Entities() {
		if c.Added+c.Updated+c.Removed > 0 {
			parts = append(parts, fmt.Sprintf("%s +%d ~%d -%d", c.Name, c.Added, c.Updated, c.Removed))
		}
	}
	return fmt.Sprintf("%s and the registry differ (%s): import the site file first (chargewatch devices import --dry-run shows what it changes), or use the site file the registry was imported from",
		e.Path, strings.Join(parts, ", "))
}

// Replace describes a device replacement.
type Replace struct {
	Device string // the device being replaced
	NewID  string // id of the new hardware; "" or Device when it keeps the id
	Model  string // model of the new hardware; "" keeps the model
}

// ReplaceDevice records that new hardware took a device's place. The new
// device keeps the old one's place, gateway, kind, ratings and interval; its
// history is found through the lineage (Lineage) and, for InfluxDB, through
// the place tags. Under the same id the ingester restarts the device's seq
// accounting (ReplacedDevices); under a new id it starts fresh anyway.
func ReplaceDevice(ctx context.Context, db *sql.DB, sitePath string, r Replace, c Change) (*LifecycleResult, error) {
	newID := r.NewID
	if newID == "" {
		newID = r.Device
	}
	if !devices.ValidID(newID) {
		return nil, fmt.Errorf("new device id %q is not valid: ids are 1 to 64 of a-z 0-9 . _ - starting with a letter or digit", newID)
	}
	var reminders []string
	res, err := applyLifecycle(ctx, db, sitePath, c, ActionReplaceDevice, r.Device, func(e *siteEditor, site *Site) (any, []Replacement, error) {
		entry, _, err := e.entry("devices", r.Device)
		if err != nil {
			return nil, nil, err
		}
		old := siteDevice(site, r.Device)
		if newID != r.Device && siteDevice(site, newID) != nil {
			return nil, nil, fmt.Errorf("device id %q is taken: choose another id for the new hardware", newID)
		}
		selfConnected := old.Gateway == old.ID
		if newID != r.Device {
			if err := e.set(entry, "id", newID); err != nil {
				return nil, nil, err
			}
			if selfConnected {
				if err := e.set(entry, "gateway", newID); err != nil {
					return nil, nil, err
				}
			}
		}
		if r.Model != "" && r.Model != old.Model {
			if err := e.set(entry, "model", r.Model); err != nil {
				return nil, nil, err
			}
		}
		model := old.Model
		if r.Model != "" {
			model = r.Model
		}
		detail := map[string]any{"device": newID, "previous": r.Device, "model_before": old.Model, "model_after": model,
			"gateway": old.Gateway, "place": placeOf(old)}
		if newID == r.Device {
			reminders = append(reminders,
				fmt.Sprintf("configure the new hardware as %q (its gateway config or its own settings); its seq counter may start again from 1: the ingester restarts the device's loss accounting", newID))
		} else {
			reminders = append(reminders,
				fmt.Sprintf("replace %q by %q wherever the old id is configured: the gateway's cw-edge config, adapter accounts (chargewatch check-config), dashboards", r.Device, newID),
				fmt.Sprintf("open alerts of %q stay open until someone closes them (outcome rectified)", r.Device))
			if selfConnected {
				reminders = append(reminders, fmt.Sprintf("%q connects by itself: its MQTT account is now %q: run chargewatch mqtt-auth and reload Mosquitto", newID, newID))
			}
		}
		return detail, []Replacement{{Device: newID, Previous: r.Device}}, nil
	})
	if res != nil {
		res.Reminders = reminders
	}
	return res, err
}

// Move describes a device move: to another unit or building, to another
// gateway, or both.
type Move struct {
	Device   string
	Unit     string // the new unit; exclusive with Building
	Building string // the new building, for a device that serves all of it
	Gateway  string // the new gateway; "" keeps it
}

// MoveDevice moves a device to another place or gateway. Its id, and so
// its history, stay.
func MoveDevice(ctx context.Context, db *sql.DB, sitePath string, m Move, c Change) (*LifecycleResult, error) {
	if m.Unit == "" && m.Building == "" && m.Gateway == "" {
		return nil, errors.New("nothing to move: give the new unit, building or gateway")
	}
	if m.Unit != "" && m.Building != "" {
		return nil, errors.New("give a unit or a building, not both: a device sits in a unit, or serves a whole building")
	}
	var reminders []string
	res, err := applyLifecycle(ctx, db, sitePath, c, ActionMoveDevice, m.Device, func(e *siteEditor, site *Site) (any, []Replacement, error) {
		entry, _, err := e.entry("devices", m.Device)
		if err != nil {
			return nil, nil, err
		}
		old := siteDevice(site, m.Device)
		from := placeOf(old)
		to := map[string]string{"unit": old.Unit, "building": old.Building, "gateway": old.Gateway}
		switch {
		case m.Unit != "" && old.Unit == "":
			err = e.rename(entry, "building", "unit", m.Unit)
		case m.Unit != "":
			err = e.set(entry, "unit", m.Unit)
		case m.Building != "" && old.Building == "":
			err = e.rename(entry, "unit", "building", m.Building)
		case m.Building != "":
			err = e.set(entry, "building", m.Building)
		}
		if err != nil {
			return nil, nil, err
		}
		if m.Unit != "" {
			to["unit"], to["building"] = m.Unit, ""
		}
		if m.Building != "" {
			to["unit"], to["building"] = "", m.Building
		}
		if m.Gateway != "" && m.Gateway != old.Gateway {
			if err := e.set(entry, "gateway", m.Gateway); err != nil {
				return nil, nil, err
			}
			to["gateway"] = m.Gateway
			reminders = append(reminders, fmt.Sprintf("move %q from the cw-edge config of %q to that of %q (or its adapter account)", m.Device, old.Gateway, m.Gateway))
		}
		for k, v := range to {
			if v == "" {
				delete(to, k)
			}
		}
		if equalMaps(from, to) {
			return nil, nil, fmt.Errorf("device %q is already there", m.Device)
		}
		return map[string]any{"from": from, "to": to}, nil, nil
	})
	if res != nil {
		res.Reminders = reminders
	}
	return res, err
}

// Decommission describes a gateway leaving the registry. A gateway that
// still has devices needs one of MoveDevicesTo and RemoveDevices.
type Decommission struct {
	Gateway       string
	MoveDevicesTo string // another gateway that takes its devices over
	RemoveDevices bool   // remove its devices from the registry too
}

// DecommissionGateway removes a gateway (and moves or removes its devices).
// Its MQTT account disappears the next time chargewatch mqtt-auth runs; its
// history stays in InfluxDB and the alert store.
func DecommissionGateway(ctx context.Context, db *sql.DB, sitePath string, d Decommission, c Change) (*LifecycleResult, error) {
	if d.MoveDevicesTo != "" && d.RemoveDevices {
		return nil, errors.New("give either a gateway to move the devices to, or remove them, not both")
	}
	if d.MoveDevicesTo == d.Gateway && d.Gateway != "" {
		return nil, fmt.Errorf("cannot move the devices of %q to itself", d.Gateway)
	}
	var reminders []string
	res, err := applyLifecycle(ctx, db, sitePath, c, ActionDecommissionGateway, d.Gateway, func(e *siteEditor, site *Site) (any, []Replacement, error) {
		_, gwIdx, err := e.entry("gateways", d.Gateway)
		if err != nil {
			if dev := siteDevice(site, d.Gateway); dev != nil && dev.Gateway == dev.ID {
				return nil, nil, fmt.Errorf("%q is a device that connects by itself and has no gateway entry: remove the device from the site file and import it", d.Gateway)
			}
			return nil, nil, err
		}
		var devs []string
		var removeIdx []int
		for _, dev := range site.Devices {
			if dev.Gateway != d.Gateway {
				continue
			}
			devs = append(devs, dev.ID)
			entry, idx, err := e.entry("devices", dev.ID)
			if err != nil {
				return nil, nil, err
			}
			switch {
			case d.MoveDevicesTo != "":
				if err := e.set(entry, "gateway", d.MoveDevicesTo); err != nil {
					return nil, nil, err
				}
			case d.RemoveDevices:
				removeIdx = append(removeIdx, idx)
			}
		}
		if len(devs) > 0 && d.MoveDevicesTo == "" && !d.RemoveDevices {
			return nil, nil, fmt.Errorf("gateway %q still has %d device(s) (%s): move them to another gateway or remove them with it", d.Gateway, len(devs), strings.Join(devs, ", "))
		}
		for _, idx := range removeIdx {
			if err := e.deleteEntry("devices", idx); err != nil {
				return nil, nil, err
			}
		}
		if err := e.deleteEntry("gateways", gwIdx); err != nil {
			return nil, nil, err
		}
		detail := map[string]any{"gateway": d.Gateway, "devices": devs}
		if d.MoveDevicesTo != "" {
			detail["devices_moved_to"] = d.MoveDevicesTo
			reminders = append(reminders, fmt.Sprintf("add the devices to the cw-edge config of %q", d.MoveDevicesTo))
		} else if len(devs) > 0 {
			detail["devices_removed"] = true
		}
		reminders = append(reminders,
			fmt.Sprintf("run chargewatch mqtt-auth and reload Mosquitto: the broker account of %q goes away", d.Gateway),
			fmt.Sprintf("remove adapter accounts tied to %q (chargewatch check-config reports them)", d.Gateway))
		return detail, nil, nil
	})
	if res != nil {
		res.Reminders = reminders
	}
	return res, err
}

func siteDevice(s *Site, id string) *DeviceSpec {
	for i := range s.Devices {
		if s.Devices[i].ID == id {
			return &s.Devices[i]
		}
	}
	return nil
}

func placeOf(d *DeviceSpec) map[string]string {
	m := map[string]string{"gateway": d.Gateway}
	if d.Unit != "" {
		m["unit"] = d.Unit
	}
	if d.Building != "" {
		m["building"] = d.Building
	}
	return m
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// applyLifecycle runs the steps described at the top of this file; edit
// changes the site file's text and returns the audit detail and the
// lineage rows to record.
func applyLifecycle(ctx context.Context, db *sql.DB, path string, c Change, action AuditAction, subject string,
	edit func(e *siteEditor, site *Site) (detail any, lineage []Replacement, err error)) (*LifecycleResult, error) {
	if strings.TrimSpace(c.By) == "" {
		return nil, errors.New("say who makes the change (--by): it goes into the registry's audit log")
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("site file: %w", err)
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("site file: %w", err)
	}
	site0, err := ParseSite(path, src)
	if err != nil {
		return nil, fmt.Errorf("the site file is invalid; fix it first:\n%w", err)
	}
	ed, err := newSiteEditor(path, src)
	if err != nil {
		return nil, err
	}
	detail, lineage, err := edit(ed, site0)
	if err != nil {
		return nil, err
	}
	out, err := ed.result()
	if err != nil {
		return nil, err
	}
	site1, err := ParseSite(path, out)
	if err != nil {
		return nil, fmt.Errorf("the change would make the site file invalid; nothing was changed:\n%w", err)
	}
	detailJSON, err := json.Marshal(detail)
	if err != nil {
		return nil, err
	}

	// The edited file, beside the original until the registry committed.
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("site file: %w", err)
	}
	tmpName := tmp.Name()
	renamed := false
	defer func() {
		if !renamed {
			os.Remove(tmpName)
		}
	}()
	_, err = tmp.Write(out)
	if err == nil {
		err = tmp.Chmod(info.Mode().Perm())
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("write the edited site file: %w", err)
	}

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", action, err)
	}
	defer tx.Rollback()
	ch0, err := importTx(ctx, tx, site0)
	if err != nil {
		return nil, err
	}
	if ch0.Changed() {
		return nil, &SiteOutOfSyncError{Path: path, Changes: ch0}
	}
	ch, err := importTx(ctx, tx, site1)
	if err != nil {
		return nil, err
	}
	if !ch.Changed() {
		// Only the lineage changed (same id, same model): servers must
		// still reload to restart the device's seq accounting.
		if ch.Generation, err = BumpGeneration(ctx, tx); err != nil {
			return nil, err
		}
	}
	at := timeNow().UnixMilli()
	entry := AuditEntry{At: at, Actor: c.By, Action: action, Subject: subject, Detail: detailJSON, Note: c.Note, Generation: ch.Generation}
	if _, err := insertAudit(ctx, tx, &entry); err != nil {
		return nil, err
	}
	for _, r := range lineage {
		var last int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(replaced_at), 0) FROM device_lineage WHERE device_id = ?`, r.Device).Scan(&last); err != nil {
			return nil, fmt.Errorf("%s: %w", action, err)
		}
		when := max(at, last+1)
		if _, err := tx.ExecContext(ctx, `INSERT INTO device_lineage (device_id, previous_id, replaced_at, audit_id) VALUES (?, ?, ?, ?)`,
			r.Device, r.Previous, when, entry.ID); err != nil {
			return nil, fmt.Errorf("%s: record the lineage: %w", action, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("%s: commit: %w", action, err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		renamed = true // keep the edited file for the hand move
		return nil, fmt.Errorf("the registry was changed, but the site file could not be replaced (the edited file is %s: move it over %s by hand, or the next import undoes the change): %w", tmpName, path, err)
	}
	renamed = true
	if err := syncFile(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("site file: %w", err)
	}
	return &LifecycleResult{Audit: entry, Changes: ch}, nil
}
