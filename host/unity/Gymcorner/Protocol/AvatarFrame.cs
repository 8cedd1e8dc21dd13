// The avatar frame v1 (docs/avatar-frame.md): the model and both decoders (binary, JSON).
// Plain C#: compiles with Unity and with Debian's mcs, and is tested there against the
// shared vectors in tests/vectors/. Axes are Unity's: +x the person's right, +y up, +z their
// forward, metres; quaternions (x, y, z, w) are Unity's Quaternion components.
using System;
using System.Collections.Generic;
using System.Globalization;

namespace Gymcorner.Protocol
{
    public struct Vec3
    {
        public double X, Y, Z;
        public Vec3(double x, double y, double z) { X = x; Y = y; Z = z; }
    }

    public struct Quat
    {
        public double X, Y, Z, W;
        public Quat(double x, double y, double z, double w) { X = x; Y = y; Z = z; W = w; }
        public static readonly Quat Identity = new Quat(0, 0, 0, 1);
    }

    public enum View { Unknown = 0, Frontal = 1, Lateral = 2 }
    /// <summary>Exercise codes, additive within v1 (edge/gymcorner/avatar/codec.py Exercise).</summary>
    public enum Exercise { Unknown = 0, Squat = 1, PushUp = 2, PullUp = 3, Dip = 4, Plank = 5, Lunge = 6, JumpingJack = 7, BicepCurl = 8, RussianTwist = 9, Other = 10 }

    /// <summary>Bones in wire order; rotation from the T-pose direction, root frame.</summary>
    public enum Bone { Spine, LeftUpperArm, RightUpperArm, LeftForearm, RightForearm, LeftThigh, RightThigh, LeftShin, RightShin }

    public sealed class AvatarFrame
    {
        public const int Version = 1;
        public const int HeaderSize = 17;
        public const int FrameSize = 295;
        public const int NumLandmarks = 33;
        public const int NumBones = 9;

        public static readonly string[] LandmarkNames = {
            "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer",
            "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow",
            "right_elbow", "left_wrist", "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index",
            "left_thumb", "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
            "right_ankle", "left_heel", "right_heel", "left_foot_index", "right_foot_index" };

        public static readonly string[] ExerciseNames = { "unknown", "squat", "push_up", "pull_up", "dip", "plank", "lunge", "jumping_jack", "bicep_curl", "russian_twist", "other", "bench_press", "front_raise", "sit_up", "cable_pushdown" };

        public static readonly string[] BoneNames = {
            "spine", "left_upper_arm", "right_upper_arm", "left_forearm", "right_forearm",
            "left_thigh", "right_thigh", "left_shin", "right_shin" };

        public uint Seq;
        public double TimeS;
        public bool Present;
        /// <summary>View and exercise codes (0-15); a code this reader does not know stays a number.</summary>
        public int ViewCode, ExerciseCode;
        /// <summary>Algorithm 1: interval k, or -1 when the head is unknown.</summary>
        public int HeadInterval = -1;
        public double HeadDeltaDeg;
        /// <summary>Absolute yaw of the interval's centre; NaN when unknown.</summary>
        public double HeadYawDeg = double.NaN;
        public Vec3[] Landmarks;      // metres, null without a person
        public double[] Visibility;   // 0..1, null without a person
        public Quat[] Bones;          // null without a person

        public bool HeadKnown { get { return HeadInterval >= 0; } }
        public View View { get { return ViewCode <= 2 ? (View)ViewCode : View.Unknown; } }
        public Exercise Exercise { get { return ExerciseCode < ExerciseNames.Length ? (Exercise)ExerciseCode : Exercise.Unknown; } }

        // ------------------------------------------------------------------ binary

        const double QuatScale = 32767.0 * 1.4142135623730951;
        const double QuatMaxRest = 0.75 + 1e-3;

        /// <summary>Decode a binary v1 frame; throws ProtocolException saying what is wrong.</summary>
        public static AvatarFrame DecodeBinary(byte[] data)
        {
            if (data == null) throw new ProtocolException("avatar frame: null payload");
            if (data.Length < HeaderSize)
                throw new ProtocolException("truncated avatar frame: " + data.Length + " bytes, the header alone is " + HeaderSize);
            if (data[0] != 0x47 || data[1] != 0x41) throw new ProtocolException("not an avatar frame: wrong magic");
            if (data[2] != Version) throw new ProtocolException("avatar frame version " + data[2] + " is not supported (this reader knows 1)");
            int flags = data[3];
            if ((flags & ~0x03) != 0) throw new ProtocolException("avatar frame flags set reserved bits");
            var f = new AvatarFrame();
            f.Seq = ReadU32(data, 4);
            f.TimeS = BitConverter.Int64BitsToDouble(ReadI64(data, 8));
            if (double.IsNaN(f.TimeS) || double.IsInfinity(f.TimeS)) throw new ProtocolException("avatar frame t_s is not finite");
            f.Present = (flags & 0x01) != 0;
            int expected = f.Present ? FrameSize : HeaderSize;
            if (data.Length != expected)
                throw new ProtocolException("avatar frame " + (f.Present ? "with" : "without") + " a person must be " + expected + " bytes, got " + data.Length);
            f.ViewCode = data[16] & 0x0F;
            f.ExerciseCode = data[16] >> 4;
            bool headKnown = (flags & 0x02) != 0;
            if (!f.Present)
            {
                if (headKnown) throw new ProtocolException("avatar frame without a person claims a known head");
                return f;
            }
            int interval = ReadU16(data, 17);
            int delta = ReadI16(data, 19), yaw = ReadI16(data, 21);
            if (headKnown != (interval != 0xFFFF) || (!headKnown && (delta != 0 || yaw != 0)))
                throw new ProtocolException("avatar frame head fields contradict the head-known flag");
            if (headKnown)
            {
                f.HeadInterval = interval;
                f.HeadYawDeg = yaw / 10.0;
            }
            f.HeadDeltaDeg = delta / 10.0;
            int offset = 23;
            f.Landmarks = new Vec3[NumLandmarks];
            for (int i = 0; i < NumLandmarks; i++, offset += 6)
                f.Landmarks[i] = new Vec3(ReadI16(data, offset) / 1000.0, ReadI16(data, offset + 2) / 1000.0, ReadI16(data, offset + 4) / 1000.0);
            f.Visibility = new double[NumLandmarks];
            for (int i = 0; i < NumLandmarks; i++)
            {
                int b = data[offset + i / 2];
                f.Visibility[i] = ((i % 2 == 0) ? (b & 0x0F) : (b >> 4)) / 15.0;
            }
            if ((data[offset + NumLandmarks / 2] >> 4) != 0) throw new ProtocolException("avatar frame visibility padding is not zero");
            offset += (NumLandmarks + 1) / 2;
            int indexBits = data[offset] | data[offset + 1] << 8 | data[offset + 2] << 16;
            if ((indexBits >> (2 * NumBones)) != 0) throw new ProtocolException("quaternion index block has bits set beyond the last bone");
            offset += 3;
            f.Bones = new Quat[NumBones];
            for (int b = 0; b < NumBones; b++, offset += 6)
            {
                double a0 = ReadI16(data, offset) / QuatScale, a1 = ReadI16(data, offset + 2) / QuatScale, a2 = ReadI16(data, offset + 4) / QuatScale;
                double squares = a0 * a0 + a1 * a1 + a2 * a2;
                double restored = Math.Sqrt(Math.Max(0.0, 1.0 - squares));
                double largestKept = Math.Max(Math.Abs(a0), Math.Max(Math.Abs(a1), Math.Abs(a2)));
                if (squares > QuatMaxRest || largestKept > restored + 1e-3)
                    throw new ProtocolException("bone " + BoneNames[b] + ": not a smallest-three quaternion");
                var c = new double[4];
                int dropped = (indexBits >> (2 * b)) & 0x3, k = 0;
                double[] kept = { a0, a1, a2 };
                for (int j = 0; j < 4; j++) c[j] = j == dropped ? restored : kept[k++];
                f.Bones[b] = new Quat(c[0], c[1], c[2], c[3]);
            }
            return f;
        }

        static int ReadU16(byte[] d, int o) { return d[o] | d[o + 1] << 8; }
        static int ReadI16(byte[] d, int o) { return (short)(d[o] | d[o + 1] << 8); }
        static uint ReadU32(byte[] d, int o) { return (uint)(d[o] | d[o + 1] << 8 | d[o + 2] << 16 | d[o + 3] << 24); }
        static long ReadI64(byte[] d, int o) { return (long)ReadU32(d, o) | (long)ReadU32(d, o + 4) << 32; }

        // -------------------------------------------------------------------- JSON

        /// <summary>Decode the JSON form (avatar.format = "json", and TCP avatar lines).</summary>
        public static AvatarFrame FromJson(string json)
        {
            return FromJsonObject(JsonFields.Obj(MiniJson.Parse(json), "avatar JSON"));
        }

        public static AvatarFrame FromJsonObject(Dictionary<string, object> o)
        {
            JsonFields.Version(o, "avatar JSON");
            var f = new AvatarFrame();
            double seq = JsonFields.Num(JsonFields.Get(o, "seq", ""), "seq");
            if (seq < 0 || seq > uint.MaxValue || seq != Math.Floor(seq)) throw new ProtocolException("seq must be a uint32");
            f.Seq = (uint)seq;
            f.TimeS = JsonFields.Num(JsonFields.Get(o, "t_s", ""), "t_s");
            object present = JsonFields.Get(o, "present", "");
            if (!(present is bool)) throw new ProtocolException("present must be true or false");
            f.Present = (bool)present;
            object v;
            f.ViewCode = o.TryGetValue("view", out v) ? Code(v, new[] { "unknown", "frontal", "lateral" }, "view") : 0;
            f.ExerciseCode = o.TryGetValue("exercise", out v) ? Code(v, ExerciseNames, "exercise") : 0;
            if (!f.Present) return f;
            var head = JsonFields.Obj(JsonFields.Get(o, "head", ""), "head");
            object interval = JsonFields.Get(head, "interval", "head."), yaw = JsonFields.Get(head, "yaw_deg", "head.");
            if ((interval == null) != (yaw == null)) throw new ProtocolException("head.interval and head.yaw_deg must both be set or both be null");
            if (interval != null)
            {
                f.HeadInterval = (int)JsonFields.Num(interval, "head.interval");
                f.HeadYawDeg = JsonFields.Num(yaw, "head.yaw_deg");
            }
            f.HeadDeltaDeg = JsonFields.Num(JsonFields.Get(head, "delta_deg", "head."), "head.delta_deg");
            var landmarks = JsonFields.Obj(JsonFields.Get(o, "landmarks", ""), "landmarks");
            f.Landmarks = new Vec3[NumLandmarks];
            f.Visibility = new double[NumLandmarks];
            for (int i = 0; i < NumLandmarks; i++)
            {
                double[] row = Row(landmarks, LandmarkNames[i], "landmarks.");
                f.Landmarks[i] = new Vec3(row[0], row[1], row[2]);
                f.Visibility[i] = row[3];
            }
            var bones = JsonFields.Obj(JsonFields.Get(o, "bones", ""), "bones");
            f.Bones = new Quat[NumBones];
            for (int b = 0; b < NumBones; b++)
            {
                double[] q = Row(bones, BoneNames[b], "bones.");
                f.Bones[b] = new Quat(q[0], q[1], q[2], q[3]);
            }
            return f;
        }

        static int Code(object value, string[] names, string where)
        {
            var name = value as string;
            if (name != null)
            {
                int index = Array.IndexOf(names, name);
                if (index < 0) throw new ProtocolException(where + " '" + name + "' is not known");
                return index;
            }
            double n = JsonFields.Num(value, where);
            if (n < 0 || n > 15 || n != Math.Floor(n)) throw new ProtocolException(where + " must be 0..15");
            return (int)n;
        }

        static double[] Row(Dictionary<string, object> o, string name, string where)
        {
            var list = JsonFields.Get(o, name, where) as List<object>;
            if (list == null || list.Count != 4) throw new ProtocolException(where + name + " must be a list of 4 numbers");
            var row = new double[4];
            for (int i = 0; i < 4; i++) row[i] = JsonFields.Num(list[i], where + name);
            return row;
        }

        public override string ToString()
        {
            return string.Format(CultureInfo.InvariantCulture, "AvatarFrame(seq={0}, t={1:0.###} s, present={2}, view={3}, head={4})",
                Seq, TimeS, Present, View, HeadKnown ? HeadYawDeg.ToString("0.#", CultureInfo.InvariantCulture) + "°" : "unknown");
        }
    }
}
