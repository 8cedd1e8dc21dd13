// Unity only: applies the newest avatar frame to a humanoid Animator on the main thread.
//
// Setup: put the model in a T-pose in the scene (arms out along its ±x, legs straight down,
// facing +z), add GymcornerMqttClient somewhere and this component on the model, drag the
// model's Animator and the client into the fields. The rest rotations are captured in
// Start(), so the model must be in its T-pose when the scene starts.
using System.Collections.Generic;
using Gymcorner.Protocol;
using UnityEngine;

namespace Gymcorner.Unity
{
    public class AvatarDriver : MonoBehaviour
    {
        public Animator animator;
        public GymcornerMqttClient source;
        [Tooltip("Apply the head yaw (Algorithm 1) to the Head bone")] public bool driveHead = true;
        [Tooltip("Move the root with the hips (metres, avatar frame); off keeps the avatar in place")]
        public bool moveRoot = false;

        static readonly HumanBodyBones[] BoneMap = {
            HumanBodyBones.Spine, HumanBodyBones.LeftUpperArm, HumanBodyBones.RightUpperArm,
            HumanBodyBones.LeftLowerArm, HumanBodyBones.RightLowerArm, HumanBodyBones.LeftUpperLeg,
            HumanBodyBones.RightUpperLeg, HumanBodyBones.LeftLowerLeg, HumanBodyBones.RightLowerLeg };

        readonly Dictionary<HumanBodyBones, Quaternion> restInRoot = new Dictionary<HumanBodyBones, Quaternion>();
        public AvatarFrame Latest { get; private set; }

        void Start()
        {
            foreach (var bone in BoneMap) Capture(bone);
            Capture(HumanBodyBones.Head);
        }

        void Capture(HumanBodyBones bone)
        {
            var t = animator.GetBoneTransform(bone);
            if (t != null) restInRoot[bone] = Quaternion.Inverse(animator.transform.rotation) * t.rotation;
        }

        void Update()
        {
            AvatarFrame frame = null, next;
            while (source.Frames.TryDequeue(out next)) frame = next;  // keep only the newest
            if (frame == null || !frame.Present) return;  // no person: hold the last pose
            Latest = frame;
            var root = animator.transform.rotation;
            // Parents before children (wire order), each set in world space:
            // bone.rotation = root.rotation * q * restRotation (docs/avatar-frame.md).
            for (int b = 0; b < BoneMap.Length; b++)
            {
                Quaternion rest;
                var t = animator.GetBoneTransform(BoneMap[b]);
                if (t == null || !restInRoot.TryGetValue(BoneMap[b], out rest)) continue;
                var q = frame.Bones[b];
                t.rotation = root * new Quaternion((float)q.X, (float)q.Y, (float)q.Z, (float)q.W) * rest;
            }
            Quaternion headRest;
            var head = animator.GetBoneTransform(HumanBodyBones.Head);
            if (driveHead && frame.HeadKnown && head != null && restInRoot.TryGetValue(HumanBodyBones.Head, out headRest))
                head.rotation = root * Quaternion.Euler(0f, (float)frame.HeadYawDeg, 0f) * headRest;
            if (moveRoot)
            {
                var l = frame.Landmarks[23]; var r = frame.Landmarks[24];  // hips
                animator.transform.localPosition = new Vector3((float)(l.X + r.X) / 2f, (float)(l.Y + r.Y) / 2f, (float)(l.Z + r.Z) / 2f);
            }
        }
    }
}
