"""A compact English stop-word list (common function words) as plain data."""

from __future__ import annotations

# Function words only: pronouns, determiners, auxiliaries, prepositions, conjunctions and
# a few discourse fillers. Content words stay, because in news text words like "said" are
# handled by the document-frequency cut-off instead of by a hand-made list.
ENGLISH: frozenset[str] = frozenset(
    {
        "a", "about", "above", "across", "after", "afterwards", "again", "against", "all",
        "almost", "alone", "along", "already", "also", "although", "always", "am", "among",
        "amongst", "an", "and", "another", "any", "anybody", "anyhow", "anyone", "anything",
        "anyway", "anywhere", "are", "aren", "around", "as", "at", "be", "became", "because",
        "become", "becomes", "becoming", "been", "before", "beforehand", "behind", "being",
        "below", "beside", "besides", "between", "beyond", "both", "but", "by", "can", "cannot",
        "could", "couldn", "did", "didn", "do", "does", "doesn", "doing", "don", "done", "down",
        "due", "during", "each", "either", "else", "elsewhere", "enough", "etc", "even", "ever",
        "every", "everybody", "everyone", "everything", "everywhere", "except", "few", "for",
        "former", "formerly", "from", "further", "had", "hadn", "has", "hasn", "have", "haven",
        "having", "he", "hence", "her", "here", "hereafter", "hereby", "herein", "hers",
        "herself", "him", "himself", "his", "how", "however", "i", "ie", "if", "in", "indeed",
        "into", "is", "isn", "it", "its", "itself", "just", "least", "less", "ll", "many",
        "may", "me", "meanwhile", "might", "mine", "more", "moreover", "most", "mostly", "much",
        "must", "my", "myself", "namely", "neither", "never", "nevertheless", "next", "no",
        "nobody", "none", "noone", "nor", "not", "nothing", "now", "nowhere", "of", "off",
        "often", "on", "once", "one", "only", "onto", "or", "other", "others", "otherwise",
        "our", "ours", "ourselves", "out", "over", "own", "per", "perhaps", "quite", "rather",
        "re", "really", "same", "several", "shall", "she", "should", "shouldn", "since", "so",
        "some", "somebody", "somehow", "someone", "something", "sometime", "sometimes",
        "somewhere", "still", "such", "than", "that", "the", "their", "theirs", "them",
        "themselves", "then", "thence", "there", "thereafter", "thereby", "therefore",
        "therein", "thereupon", "these", "they", "this", "those", "though", "through",
        "throughout", "thru", "thus", "to", "together", "too", "toward", "towards", "under",
        "unless", "until", "up", "upon", "us", "ve", "very", "via", "was", "wasn", "we", "well",
        "were", "weren", "what", "whatever", "when", "whence", "whenever", "where",
        "whereafter", "whereas", "whereby", "wherein", "whereupon", "wherever", "whether",
        "which", "while", "whither", "who", "whoever", "whole", "whom", "whose", "why", "will",
        "with", "within", "without", "won", "would", "wouldn", "yet", "you", "your", "yours",
        "yourself", "yourselves"
    }
)
