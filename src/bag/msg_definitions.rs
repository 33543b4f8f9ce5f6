//! Full ROS 2 message definitions (`ros2msg`, the concatenated format rosbag2 writes into MCAP
//! schemas) for every type redline writes into a bag.

/// The message types redline writes into bags.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum RosType {
    Detection2DArray,
    DiagnosticArray,
    DiagnosticStatus,
    Image,
    CompressedImage,
}

const SEPARATOR: &str =
    "================================================================================\n";

const TIME: (&str, &str) = ("builtin_interfaces/Time", "int32 sec\nuint32 nanosec\n");
const HEADER: (&str, &str) = (
    "std_msgs/Header",
    "builtin_interfaces/Time stamp\nstring frame_id\n",
);
const POINT: (&str, &str) = ("geometry_msgs/Point", "float64 x\nfloat64 y\nfloat64 z\n");
const QUATERNION: (&str, &str) = (
    "geometry_msgs/Quaternion",
    "float64 x 0\nfloat64 y 0\nfloat64 z 0\nfloat64 w 1\n",
);
const POSE: (&str, &str) = (
    "geometry_msgs/Pose",
    "geometry_msgs/Point position\ngeometry_msgs/Quaternion orientation\n",
);
const POSE_WITH_COVARIANCE: (&str, &str) = (
    "geometry_msgs/PoseWithCovariance",
    "geometry_msgs/Pose pose\nfloat64[36] covariance\n",
);
const OBJECT_HYPOTHESIS: (&str, &str) = (
    "vision_msgs/ObjectHypothesis",
    "string class_id\nfloat64 score\n",
);
const OBJECT_HYPOTHESIS_WITH_POSE: (&str, &str) = (
    "vision_msgs/ObjectHypothesisWithPose",
    "vision_msgs/ObjectHypothesis hypothesis\ngeometry_msgs/PoseWithCovariance pose\n",
);
const POINT2D: (&str, &str) = ("vision_msgs/Point2D", "float64 x\nfloat64 y\n");
const POSE2D: (&str, &str) = (
    "vision_msgs/Pose2D",
    "vision_msgs/Point2D position\nfloat64 theta\n",
);
const BOUNDING_BOX2D: (&str, &str) = (
    "vision_msgs/BoundingBox2D",
    "vision_msgs/Pose2D center\nfloat64 size_x\nfloat64 size_y\n",
);
const DETECTION2D: (&str, &str) = (
    "vision_msgs/Detection2D",
    "std_msgs/Header header\nvision_msgs/ObjectHypothesisWithPose[] results\n\
     vision_msgs/BoundingBox2D bbox\nstring id\n",
);
const KEY_VALUE: (&str, &str) = ("diagnostic_msgs/KeyValue", "string key\nstring value\n");

const DETECTION2D_ARRAY: &str = "std_msgs/Header header\nvision_msgs/Detection2D[] detections\n";
const DIAGNOSTIC_STATUS: &str = "byte OK=0\nbyte WARN=1\nbyte ERROR=2\nbyte STALE=3\n\
     byte level\nstring name\nstring message\nstring hardware_id\n\
     diagnostic_msgs/KeyValue[] values\n";
const DIAGNOSTIC_ARRAY: &str =
    "std_msgs/Header header\ndiagnostic_msgs/DiagnosticStatus[] status\n";
const IMAGE: &str = "std_msgs/Header header\nuint32 height\nuint32 width\nstring encoding\n\
     uint8 is_bigendian\nuint32 step\nuint8[] data\n";
const COMPRESSED_IMAGE: &str = "std_msgs/Header header\nstring format\nuint8[] data\n";

impl RosType {
    /// The ROS 2 type name, e.g. `vision_msgs/msg/Detection2DArray`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Detection2DArray => "vision_msgs/msg/Detection2DArray",
            Self::DiagnosticArray => "diagnostic_msgs/msg/DiagnosticArray",
            Self::DiagnosticStatus => "diagnostic_msgs/msg/DiagnosticStatus",
            Self::Image => "sensor_msgs/msg/Image",
            Self::CompressedImage => "sensor_msgs/msg/CompressedImage",
        }
    }

    fn own_and_dependencies(self) -> (&'static str, &'static [(&'static str, &'static str)]) {
        match self {
            Self::Detection2DArray => (
                DETECTION2D_ARRAY,
                &[
                    HEADER,
                    TIME,
                    DETECTION2D,
                    OBJECT_HYPOTHESIS_WITH_POSE,
                    OBJECT_HYPOTHESIS,
                    POSE_WITH_COVARIANCE,
                    POSE,
                    POINT,
                    QUATERNION,
                    BOUNDING_BOX2D,
                    POSE2D,
                    POINT2D,
                ],
            ),
            Self::DiagnosticArray => (
                DIAGNOSTIC_ARRAY,
                &[
                    HEADER,
                    TIME,
                    ("diagnostic_msgs/DiagnosticStatus", DIAGNOSTIC_STATUS),
                    KEY_VALUE,
                ],
            ),
            Self::DiagnosticStatus => (DIAGNOSTIC_STATUS, &[KEY_VALUE]),
            Self::Image => (IMAGE, &[HEADER, TIME]),
            Self::CompressedImage => (COMPRESSED_IMAGE, &[HEADER, TIME]),
        }
    }

    /// The full concatenated definition: the type's own fields, then each dependency after a
    /// `===…` separator line and a `MSG: pkg/Type` line.
    pub fn definition(self) -> String {
        let (own, deps) = self.own_and_dependencies();
        let mut text = String::from(own);
        for (name, body) in deps {
            text.push_str(SEPARATOR);
            text.push_str("MSG: ");
            text.push_str(name);
            text.push('\n');
            text.push_str(body);
        }
        text
    }
}
