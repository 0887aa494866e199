"""Everyday words of questions about a paper or a lecture, in English and Chinese.

A source's term list (``bot.glossary``) names *its* terms; a beginner's question also says
"训练集", "数据集", "参数", "缺点" or "为什么", which no term list holds and every source uses.
``GENERAL`` lists such words of machine-learning writing (not of any one source), ``FRAME`` the
words that only shape a question ("为什么" -> "why"). ``bot.queries`` translates them after the
sources' own terms, which win where both match; a question whose only translatable words are
``FRAME`` words still counts as untranslated.
"""

from __future__ import annotations

from kernel.models import Term

__all__ = ["FRAME", "GENERAL"]


def _terms(pairs: str) -> tuple[Term, ...]:
    out = []
    for line in pairs.strip().splitlines():
        zh, en = (part.strip() for part in line.split("=", 1))
        out.append(Term(en=en, zh=zh))
    return tuple(out)


FRAME = _terms(
    """
    为什么 = why
    为何 = why
    怎么 = how
    怎样 = how
    如何 = how
    什么是 = what is
    是什么 = what is
    多少 = how many
    几个 = how many
    哪些 = which
    哪个 = which
    区别 = difference
    不同 = difference
    比较 = compare
    例子 = example
    意思 = meaning
    作用 = role
    目的 = purpose
    原因 = reason
    优点 = advantage
    好处 = benefit
    缺点 = drawback
    问题 = problem
    结果 = results
    影响 = effect
    """
)

GENERAL = _terms(
    """
    训练集 = training set
    验证集 = validation set
    测试集 = test set
    数据集 = dataset
    训练数据 = training data
    训练 = training
    预训练 = pre-training
    微调 = fine-tuning
    推理 = inference
    模型 = model
    参数 = parameters
    超参数 = hyperparameters
    层数 = number of layers
    层 = layer
    维度 = dimension
    向量 = vector
    矩阵 = matrix
    权重 = weights
    梯度 = gradient
    损失函数 = loss function
    损失 = loss
    目标函数 = objective
    优化器 = optimizer
    学习率 = learning rate
    批大小 = batch size
    步数 = steps
    步骤 = steps
    阶段 = stage
    迭代 = iteration
    收敛 = convergence
    过拟合 = overfitting
    正则化 = regularization
    归一化 = normalization
    准确率 = accuracy
    分数 = score
    性能 = performance
    效果 = performance
    实验 = experiments
    评估 = evaluation
    基线 = baseline
    数据 = data
    样本 = samples
    标签 = labels
    标注 = annotation
    输入 = input
    输出 = output
    序列 = sequence
    长度 = length
    词表 = vocabulary
    词元 = token
    分词 = tokenization
    嵌入 = embedding
    编码 = encoding
    解码 = decoding
    生成 = generation
    采样 = sampling
    概率 = probability
    分布 = distribution
    计算量 = computation
    计算 = computation
    复杂度 = complexity
    成本 = cost
    内存 = memory
    显存 = GPU memory
    速度 = speed
    并行 = parallel
    规模 = scale
    大小 = size
    神经网络 = neural network
    网络 = network
    架构 = architecture
    结构 = structure
    方法 = method
    算法 = algorithm
    公式 = formula
    函数 = function
    激活函数 = activation function
    任务 = task
    翻译 = translation
    语言模型 = language model
    图像 = image
    文本 = text
    句子 = sentence
    单词 = word
    上下文 = context
    位置 = position
    注意力 = attention
    """
)
