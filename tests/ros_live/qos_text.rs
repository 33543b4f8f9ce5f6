//! QoS as text, for the live tests and without ROS: the README's topic table ("### Topics":
//! reliability, durability, keep-last depth per topic) and the endpoint blocks that
//! `ros2 topic info -v` prints, both parsed into [`Qos`] so that the two can be compared.

use std::collections::BTreeMap;

/// Reliability, durability and history depth as ROS names them (`RELIABLE`, `BEST_EFFORT`,
/// `VOLATILE`, `TRANSIENT_LOCAL`). `depth` is `None` where it is not known: `ros2 topic info -v`
/// prints `UNKNOWN` when the RMW does not report another process's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Qos {
    pub reliability: String,
    pub durability: String,
    pub depth: Option<usize>,
}

/// The README's "### Topics" table: the first backticked name of each row (`input.topic`,
/// `redline/detections`, `/diagnostics`, `redline/alarm`) → the QoS its last column states.
pub fn readme_topic_table(readme: &str) -> Result<BTreeMap<String, Qos>, String> {
    let table = readme
        .split("\n### Topics\n")
        .nth(1)
        .ok_or("README has no \"### Topics\" section")?;
    let mut rows = BTreeMap::new();
    for line in table
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
    {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let (Some(first), Some(qos)) = (cells.first(), cells.last()) else {
            return Err(format!("README topic row without cells: {line}"));
        };
        let name = first
            .split('`')
            .nth(1)
            .ok_or_else(|| format!("README topic row without a `name`: {line}"))?;
        rows.insert(
            name.to_string(),
            documented_qos(qos).map_err(|e| format!("{line}: {e}"))?,
        );
    }
    if rows.is_empty() {
        return Err("README's Topics table has no rows".into());
    }
    Ok(rows)
}

/// "reliable, **transient local** (latched), keep last 1" → a [`Qos`].
fn documented_qos(cell: &str) -> Result<Qos, String> {
    let text = cell.replace('*', "").to_lowercase();
    let reliability = if text.contains("best effort") {
        "BEST_EFFORT"
    } else if text.contains("reliable") {
        "RELIABLE"
    } else {
        return Err(format!("no reliability in {cell:?}"));
    };
    let durability = if text.contains("transient local") {
        "TRANSIENT_LOCAL"
    } else if text.contains("volatile") {
        "VOLATILE"
    } else {
        return Err(format!("no durability in {cell:?}"));
    };
    let depth = text
        .split("keep last ")
        .nth(1)
        .and_then(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .ok_or_else(|| format!("no \"keep last N\" in {cell:?}"))?;
    Ok(Qos {
        reliability: reliability.into(),
        durability: durability.into(),
        depth: Some(depth),
    })
}

/// One endpoint of `ros2 topic info -v`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub node_name: String,
    pub node_namespace: String,
    /// `PUBLISHER` or `SUBSCRIPTION`.
    pub kind: String,
    pub qos: Qos,
}

/// Every endpoint block ("Node name: …" up to its QoS profile) of `ros2 topic info -v`.
pub fn parse_topic_info(text: &str) -> Result<Vec<Endpoint>, String> {
    let mut endpoints = Vec::new();
    for block in text.split("Node name: ").skip(1) {
        let field = |name: &str| {
            block
                .lines()
                .find_map(|l| l.trim().strip_prefix(name).map(str::trim))
                .map(str::to_string)
                .ok_or_else(|| format!("endpoint without \"{name}\": {block}"))
        };
        let node_name = block.lines().next().unwrap_or_default().trim().to_string();
        let history = field("History (Depth):")?;
        let depth = history
            .strip_prefix("KEEP_LAST (")
            .and_then(|d| d.strip_suffix(')'))
            .and_then(|d| d.parse().ok());
        endpoints.push(Endpoint {
            node_name,
            node_namespace: field("Node namespace:")?,
            kind: field("Endpoint type:")?,
            qos: Qos {
                reliability: field("Reliability:")?,
                durability: field("Durability:")?,
                depth,
            },
        });
    }
    Ok(endpoints)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ros2 topic info -v` as Humble prints it (one publisher, one subscription).
    const INFO: &str = "Type: diagnostic_msgs/msg/DiagnosticStatus\n\nPublisher count: 1\n\n\
        Node name: redline\nNode namespace: /front\nTopic type: diagnostic_msgs/msg/DiagnosticStatus\n\
        Endpoint type: PUBLISHER\nGID: 01.10.aa\nQoS profile:\n  Reliability: RELIABLE\n  \
        History (Depth): UNKNOWN\n  Durability: TRANSIENT_LOCAL\n  Lifespan: Infinite\n  \
        Deadline: Infinite\n  Liveliness: AUTOMATIC\n  Liveliness lease duration: Infinite\n\n\
        Subscription count: 1\n\nNode name: _ros2cli_1\nNode namespace: /\n\
        Topic type: diagnostic_msgs/msg/DiagnosticStatus\nEndpoint type: SUBSCRIPTION\nGID: 01.10.bb\n\
        QoS profile:\n  Reliability: BEST_EFFORT\n  History (Depth): KEEP_LAST (5)\n  \
        Durability: VOLATILE\n  Lifespan: Infinite\n";

    #[test]
    fn topic_info_endpoints_are_parsed_with_their_qos() {
        let e = parse_topic_info(INFO).expect("parses");
        assert_eq!(e.len(), 2);
        assert_eq!(
            (e[0].node_name.as_str(), e[0].node_namespace.as_str()),
            ("redline", "/front")
        );
        assert_eq!(e[0].kind, "PUBLISHER");
        assert_eq!(
            e[0].qos,
            Qos {
                reliability: "RELIABLE".into(),
                durability: "TRANSIENT_LOCAL".into(),
                depth: None
            }
        );
        assert_eq!(e[1].kind, "SUBSCRIPTION");
        assert_eq!(e[1].qos.reliability, "BEST_EFFORT");
        assert_eq!(e[1].qos.depth, Some(5));
    }

    #[test]
    fn an_endpoint_without_qos_is_an_error() {
        assert!(parse_topic_info("Node name: x\nNode namespace: /\n").is_err());
    }

    #[test]
    fn documented_qos_reads_the_table_cells() {
        assert_eq!(
            documented_qos("reliable, **transient local** (latched), keep last 1"),
            Ok(Qos {
                reliability: "RELIABLE".into(),
                durability: "TRANSIENT_LOCAL".into(),
                depth: Some(1)
            })
        );
        assert_eq!(
            documented_qos("best effort, volatile, keep last 10").map(|q| q.depth),
            Ok(Some(10))
        );
        assert!(documented_qos("reliable, keep last 1").is_err());
        assert!(documented_qos("volatile, keep last 1").is_err());
        assert!(documented_qos("reliable, volatile").is_err());
    }
}
