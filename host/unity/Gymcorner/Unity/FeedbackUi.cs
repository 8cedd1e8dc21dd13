// Unity only: the feedback UI hook. Drains coaching events on the main thread and raises a
// UnityEvent<string> (wire it to a TextMeshPro/Text setter, an animation trigger, a sound)
// plus an optional UI Text that shows the latest message for a few seconds.
using System;
using Gymcorner.Protocol;
using UnityEngine;
using UnityEngine.Events;

namespace Gymcorner.Unity
{
    [Serializable] public class FeedbackTextEvent : UnityEvent<string> { }
    [Serializable] public class FeedbackCodeEvent : UnityEvent<string, string> { }

    public class FeedbackUi : MonoBehaviour
    {
        public GymcornerMqttClient source;
        [Tooltip("Raised with the text to show or say")] public FeedbackTextEvent onText = new FeedbackTextEvent();
        [Tooltip("Raised with (code, severity), e.g. to play an animation for knee_valgus")] public FeedbackCodeEvent onCode = new FeedbackCodeEvent();
        public UnityEngine.UI.Text label;
        public float showSeconds = 4f;
        float hideAt;

        void Update()
        {
            FeedbackEvent e;
            while (source.Feedback.TryDequeue(out e))
            {
                onText.Invoke(e.Text);
                onCode.Invoke(e.Code, e.Severity);
                if (label != null) { label.text = e.Text; hideAt = Time.time + showSeconds; }
            }
            if (label != null && label.text.Length > 0 && Time.time > hideAt) label.text = "";
        }
    }
}
