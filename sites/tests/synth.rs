//! Synthetic sites as committed: every bundle under `fixtures/sites/` is what the generator
//! makes from its own `bundle.toml`, byte for byte, and names its CRS. After a deliberate
//! change to the generator, regenerate them with
//! `BREADCRUMB_UPDATE_FIXTURES=1 cargo test -p breadcrumb-sites --test tests synth` and review
//! the diff (and what it changes in the fixture sols' verdicts).

use std::path::PathBuf;

use breadcrumb_sites::synth::{generate, write_site, SynthParams};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

#[test]
fn fixture_sites_regenerate_byte_for_byte_from_their_bundle_toml() {
    for entry in std::fs::read_dir(fixtures().join("sites")).unwrap() {
        let dir = entry.unwrap().path();
        let params = SynthParams::load(&dir.join("bundle.toml")).unwrap();
        let out = tempfile::tempdir().unwrap();
        write_site(&generate(&params).unwrap(), &params, out.path()).unwrap();
        if std::env::var_os("BREADCRUMB_UPDATE_FIXTURES").is_some() {
            write_site(&generate(&params).unwrap(), &params, &dir).unwrap();
        }
        for f in ["dem.tif", "ortho.tif", "hazards.geojson", "bundle.toml"] {
            let same =
                std::fs::read(dir.join(f)).unwrap() == std::fs::read(out.path().join(f)).unwrap();
            assert!(same, "{}: {f} differs from a fresh generation", dir.display());
        }
    }
}

/// A synthetic site says what its ground is, as the real Gale DEM does: `gdalinfo` and
/// `site info` read "Mars2000 Equidistant Cylindrical", never "unknown", in every raster.
#[test]
fn fixture_sites_name_their_crs_in_every_raster() {
    use breadcrumb_tools::terrain::Dem;
    for entry in std::fs::read_dir(fixtures().join("sites")).unwrap() {
        let dir = entry.unwrap().path();
        for f in ["dem.tif", "ortho.tif"] {
            let dem = Dem::open(dir.join(f)).unwrap();
            let wkt = dem.crs_wkt();
            // GDAL may hand back WKT1 (`PROJCS[`) or WKT2 (`PROJCRS[`); the name is what counts.
            let name = wkt.strip_prefix("PROJCRS[\"").or_else(|| wkt.strip_prefix("PROJCS[\""));
            assert!(
                name.is_some_and(|n| n.starts_with("Mars2000 Equidistant Cylindrical clon")),
                "{}: {wkt}",
                dir.join(f).display()
            );
            assert!(wkt.contains("GCS_Mars_2000_Sphere") && !wkt.contains("unknown"), "{wkt}");
        }
    }
}

/// Classes and origins listed in a generated site's truth, in file order.
fn listed(site: &breadcrumb_sites::synth::SynthSite) -> Vec<(String, String, String)> {
    site.hazards
        .features
        .iter()
        .map(|f| {
            let p = |k: &str| f.property(k).and_then(|v| v.as_str()).unwrap_or("").to_owned();
            let id = match &f.id {
                Some(geojson::feature::Id::String(s)) => s.clone(),
                _ => String::new(),
            };
            (p("class"), p("origin"), id)
        })
        .collect()
}

/// Every hazard class the generator paints is in the ground truth of a preset that paints it:
/// scarp faces and their outcrops, fresh craters, ripple fields and the sand fill of degraded
/// craters, placed boulder fields, ejecta blankets and talus aprons, and rocks; and the file
/// reads back through the terrain reader feature for feature, class for class.
#[test]
fn the_truth_lists_every_class_each_preset_paints_and_reads_back() {
    use breadcrumb_sites::synth::PRESETS;
    use breadcrumb_tools::terrain::hazards::load_hazards;
    let mut seen = std::collections::BTreeSet::new();
    for name in PRESETS {
        let p = SynthParams::preset(name, 7, 256, 1.0).unwrap();
        let site = generate(&p).unwrap();
        let truth = listed(&site);
        let has = |class: &str, origin: Option<&str>| {
            truth.iter().any(|(c, o, _)| c == class && origin.is_none_or(|x| x == o))
        };
        for s in &p.scarps {
            assert!(has("scarp", None), "{name}: a scarp is painted");
            if s.outcrop_width_m > 0.0 {
                assert!(has("outcrop", None), "{name}: its outcrop band is painted");
            }
        }
        if !p.ripple_fields.is_empty() {
            assert!(
                truth.iter().any(|(c, _, id)| c == "sand_ripple" && id.starts_with("sand_ripple-")),
                "{name}: ripple fields"
            );
        }
        if !p.boulder_fields.is_empty() {
            assert!(has("boulder_field", Some("placed")), "{name}: boulder fields");
        }
        let h = &p.hazards;
        for c in &p.craters {
            let on_site =
                (0.0..=p.extent_m()).contains(&c.x_m) && (0.0..=p.extent_m()).contains(&c.y_m);
            if !on_site || c.diameter_m < h.crater_min_diameter_m {
                continue;
            }
            if c.freshness >= h.crater_min_freshness && c.diameter_m <= h.crater_max_diameter_m {
                assert!(has("crater", None), "{name}: a placed fresh crater");
            }
            if c.freshness <= 0.45 {
                assert!(
                    has("sand_ripple", Some("crater_fill")),
                    "{name}: a degraded crater's sand"
                );
            }
        }
        if p.scarps.iter().any(|s| s.talus_k >= 0.15) {
            assert!(
                has("boulder_field", Some("scarp_talus"))
                    || truth.iter().any(|(c, _, _)| c == "rock"),
                "{name}: talus below a scarp"
            );
        }
        // Ids are unique; the order is the documented one.
        let ids: std::collections::BTreeSet<_> = truth.iter().map(|t| t.2.clone()).collect();
        assert_eq!(ids.len(), truth.len(), "{name}: ids are unique");
        let rank = |(c, o, id): &(String, String, String)| match (c.as_str(), o.as_str()) {
            ("scarp", _) => 0,
            ("outcrop", _) => 1,
            ("crater", _) => 2,
            ("sand_ripple", "crater_fill") => 4,
            ("sand_ripple", _) => 3,
            ("boulder_field", "placed") => 5,
            ("boulder_field", "crater_ejecta") => 6,
            ("boulder_field", "scarp_talus") => 7,
            ("rock", _) => 8,
            _ => panic!("{name}: unexpected feature {c} {o} {id}"),
        };
        assert!(truth.windows(2).all(|w| rank(&w[0]) <= rank(&w[1])), "{name}: fixed order");
        // Round trip through the reader the checker and the scores use.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("hazards.geojson"), site.hazards_geojson()).unwrap();
        let back = load_hazards(&dir.path().join("hazards.geojson")).unwrap();
        assert_eq!(back.len(), truth.len(), "{name}");
        for (b, (c, _, _)) in back.iter().zip(&truth) {
            assert_eq!(b.class.as_str(), c, "{name}");
            assert!(!b.shape.0.is_empty());
        }
        seen.extend(truth.iter().map(|(c, o, _)| format!("{c}/{o}")));
    }
    let seen: Vec<_> = seen.into_iter().collect();
    for want in [
        "scarp/",
        "outcrop/",
        "crater/",
        "sand_ripple/",
        "sand_ripple/crater_fill",
        "boulder_field/placed",
        "boulder_field/crater_ejecta",
        "boulder_field/scarp_talus",
        "rock/",
    ] {
        assert!(seen.iter().any(|s| s == want), "no preset lists {want}: {seen:?}");
    }
}

/// A crater fill is where the generator put sand: the ortho is darker inside the listed disc
/// than in the ring just outside the crater, and no rock stands in it.
#[test]
fn a_listed_crater_fill_is_dark_sand_in_the_ortho() {
    let p = SynthParams::preset("crater-field", 7, 256, 1.0).unwrap();
    let site = generate(&p).unwrap();
    let o = &site.ortho;
    let fills: Vec<_> = site
        .hazards
        .features
        .iter()
        .filter(|f| f.property("origin").and_then(|v| v.as_str()) == Some("crater_fill"))
        .collect();
    assert!(!fills.is_empty());
    let mean_in = |f: &geojson::Feature, inside: bool| {
        let d = f.property("fill_diameter_m").unwrap().as_f64().unwrap();
        let cd = f.property("crater_diameter_m").unwrap().as_f64().unwrap();
        let Some(geojson::Value::Polygon(rings)) = f.geometry.as_ref().map(|g| g.value.clone())
        else {
            panic!()
        };
        let n = (rings[0].len() - 1) as f64;
        let cx = rings[0][..rings[0].len() - 1].iter().map(|p| p[0]).sum::<f64>() / n;
        let cy = rings[0][..rings[0].len() - 1].iter().map(|p| p[1]).sum::<f64>() / n;
        let (mut sum, mut count) = (0.0f64, 0.0f64);
        for row in 0..o.height {
            for col in 0..o.width {
                let x = o.transform.x0 + (col as f64 + 0.5) * o.transform.dx;
                let y = o.transform.y0 + (row as f64 + 0.5) * o.transform.dy;
                let r = (x - cx).hypot(y - cy);
                let want = if inside { r < 0.45 * d } else { r > 0.75 * cd && r < 0.95 * cd };
                if want {
                    sum += f64::from(o.pixels[row * o.width + col]);
                    count += 1.0;
                }
            }
        }
        sum / count.max(1.0)
    };
    let big = fills
        .iter()
        .max_by(|a, b| {
            let d =
                |f: &&&geojson::Feature| f.property("fill_diameter_m").unwrap().as_f64().unwrap();
            d(a).total_cmp(&d(b))
        })
        .unwrap();
    let (inside, around) = (mean_in(big, true), mean_in(big, false));
    assert!(inside + 5.0 < around, "fill {inside:.1} vs surroundings {around:.1}");
}
