//! The QoS of every topic the node touches, as plain data (ARCHITECTURE §9). The r2r adapter
//! turns a [`TopicQos`] into an `r2r::QosProfile`; the choices themselves are tested here.

/// Delivery guarantee.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Reliability {
    BestEffort,
    Reliable,
}

/// Whether late joiners receive the last message.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Durability {
    Volatile,
    TransientLocal,
}

/// History keep-last depth, reliability and durability of one topic.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TopicQos {
    pub depth: usize,
    pub reliability: Reliability,
    pub durability: Durability,
}

impl TopicQos {
    /// Camera input: sensor-data (best effort, volatile) with depth 1, so the middleware
    /// itself keeps only the newest frame.
    pub const IMAGE: Self = Self {
        depth: 1,
        reliability: Reliability::BestEffort,
        durability: Durability::Volatile,
    };
    /// Detections: reliable, volatile; a late consumer must not receive stale boxes.
    pub const DETECTIONS: Self = Self {
        depth: 1,
        reliability: Reliability::Reliable,
        durability: Durability::Volatile,
    };
    /// `/diagnostics`: the ROS default (reliable, volatile, depth 10), what the
    /// diagnostic_aggregator subscribes with.
    pub const DIAGNOSTICS: Self = Self {
        depth: 10,
        reliability: Reliability::Reliable,
        durability: Durability::Volatile,
    };
    /// The alarm: latched (transient-local + reliable, depth 1): a planner that starts late
    /// still receives the current level at once.
    pub const ALARM: Self = Self {
        depth: 1,
        reliability: Reliability::Reliable,
        durability: Durability::TransientLocal,
    };

    /// Whether a subscriber asking for `self` is matched by a publisher offering `offered`
    /// (the DDS request/offer rule for reliability and durability).
    pub fn compatible_with_offer(&self, offered: &TopicQos) -> bool {
        let reliability_ok = !(self.reliability == Reliability::Reliable
            && offered.reliability == Reliability::BestEffort);
        let durability_ok = !(self.durability == Durability::TransientLocal
            && offered.durability == Durability::Volatile);
        reliability_ok && durability_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_keeps_only_the_newest_frame_best_effort() {
        assert_eq!(TopicQos::IMAGE.depth, 1);
        assert_eq!(TopicQos::IMAGE.reliability, Reliability::BestEffort);
    }

    #[test]
    fn image_subscription_matches_reliable_and_best_effort_cameras() {
        let reliable_camera = TopicQos {
            depth: 10,
            ..TopicQos::DETECTIONS
        };
        assert!(TopicQos::IMAGE.compatible_with_offer(&reliable_camera));
        assert!(TopicQos::IMAGE.compatible_with_offer(&TopicQos::IMAGE));
    }

    #[test]
    fn alarm_is_latched_and_reliable() {
        assert_eq!(TopicQos::ALARM.durability, Durability::TransientLocal);
        assert_eq!(TopicQos::ALARM.reliability, Reliability::Reliable);
        // A latched subscriber (the planner) matches the alarm publisher ...
        assert!(TopicQos::ALARM.compatible_with_offer(&TopicQos::ALARM));
        // ... and would not match a volatile one: the alarm must be offered transient-local.
        assert!(!TopicQos::ALARM.compatible_with_offer(&TopicQos::DIAGNOSTICS));
    }

    #[test]
    fn reliable_subscriber_does_not_match_best_effort_offer() {
        assert!(!TopicQos::DETECTIONS.compatible_with_offer(&TopicQos::IMAGE));
    }
}
